"""Notifications through apprise URLs (settings.notification_urls), fed by bus events.

A failed download is sent at once with notify type "failure" (high priority); completed
downloads and new episodes (each switchable) are gathered for a few seconds and sent as
one message, so a batch of fifty downloads is one notification, not fifty.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from showkeeper.context import AppContext
from showkeeper.events import BusConsumer, Event, Subscription
from showkeeper.logging import get_logger
from showkeeper.net.errors import BlockedAddressError
from showkeeper.net.guard import IPNetwork, resolve_and_check

log = get_logger(__name__)
_TYPES = ("download_failed", "download_complete", "episodes_added")


@dataclass
class SendResult:
    sent: int = 0
    failed: list[str] = field(default_factory=list)


def _scheme(url: str) -> str:
    return url.split("://", 1)[0] + "://" if "://" in url else "(invalid URL)"


async def send(
    urls: list[str],
    title: str,
    body: str,
    *,
    kind: str = "info",
    allowed_networks: Sequence[IPNetwork] = (),
) -> SendResult:
    """Send one message to every URL; failures are listed by URL scheme only (secrets).

    apprise opens its own connections, so each target's host is resolved and checked by the
    address guard first: a private or loopback target is refused unless it lies in
    ``allowed_networks`` (allowed_private_networks), like every other outbound request.
    """
    import apprise

    result = SendResult()
    notify_type = {
        "failure": apprise.NotifyType.FAILURE,
        "success": apprise.NotifyType.SUCCESS,
    }.get(kind, apprise.NotifyType.INFO)
    for url in urls:
        target = apprise.Apprise()
        ok = target.add(url)
        if ok and not await _targets_allowed(target, allowed_networks):
            result.failed.append(f"{_scheme(url)} (address not allowed)")
            continue
        if ok:
            ok = bool(await target.async_notify(body=body, title=title, notify_type=notify_type))
        if ok:
            result.sent += 1
        else:
            result.failed.append(_scheme(url))
    return result


async def _targets_allowed(target: Any, allowed_networks: Sequence[IPNetwork]) -> bool:
    for server in target:
        host = getattr(server, "host", None)
        if not isinstance(host, str) or not host:
            continue
        port = getattr(server, "port", None)
        try:
            await resolve_and_check(
                host.strip("[]"), int(port) if isinstance(port, int) else 0, allowed_networks
            )
        except BlockedAddressError as exc:
            log.warning("notification target refused", reason=str(exc))
            return False
        except OSError:
            continue  # a name that does not resolve: apprise reports the failure itself
    return True


def describe(event: Event) -> str:
    """One line for an event: series, SxxEyy and title or error where the data has them."""
    d = event.data
    name = (
        d.get("series_name")
        or d.get("series")
        or d.get("name")
        or d.get("series_key")
        or d.get("key")
    )
    parts = [str(name)] if name else []
    if isinstance(d.get("season"), int) and isinstance(d.get("episode"), int):
        parts.append(f"S{d['season']:02d}E{d['episode']:02d}")
    if d.get("title"):
        parts.append(str(d["title"]))
    if event.type == "episodes_added":
        count = (
            d.get("count")
            or d.get("added")
            or (len(d["episodes"]) if isinstance(d.get("episodes"), list) else None)
        )
        if count:
            parts.append(f"{count} new episode(s)")
    if event.type == "download_failed" and d.get("error"):
        parts.append(f"error: {d['error']}")
    return " ".join(parts) or event.type


class Notifier(BusConsumer):
    """Service: sends notifications for bus events, per the current settings."""

    name = "notifications"

    def __init__(self, ctx: AppContext, *, batch_window_s: float = 5.0) -> None:
        super().__init__(ctx.bus, types=_TYPES, maxsize=5_000)
        self.ctx = ctx
        self.batch_window_s = batch_window_s
        self._batch: dict[str, list[str]] = {}
        self._batch_started: float | None = None

    async def consume(self, sub: Subscription) -> None:
        while True:
            timeout = None
            if self._batch_started is not None:
                timeout = max(0.0, self._batch_started + self.batch_window_s - time.monotonic())
            try:
                event = await asyncio.wait_for(sub.get(), timeout)
            except TimeoutError:
                event = None
            except StopAsyncIteration:
                return
            if event is not None:
                await self._handle(event)
            if self._batch_started is not None and (
                time.monotonic() - self._batch_started >= self.batch_window_s
            ):
                await self._flush()

    async def _handle(self, event: Event) -> None:
        settings = self.ctx.settings
        if not settings.notification_urls:
            return
        if event.type == "download_failed":
            await self._send("showkeeper: download failed", describe(event), kind="failure")
        elif (event.type == "download_complete" and settings.notify_on_complete) or (
            event.type == "episodes_added" and settings.notify_on_new_episodes
        ):
            self._batch.setdefault(event.type, []).append(describe(event))
            if self._batch_started is None:
                self._batch_started = time.monotonic()

    async def _flush(self) -> None:
        batch, self._batch, self._batch_started = self._batch, {}, None
        titles = {
            "download_complete": "showkeeper: downloaded",
            "episodes_added": "showkeeper: new episodes",
        }
        for type_, lines in batch.items():
            title = titles[type_] + (f" ({len(lines)})" if len(lines) > 1 else "")
            await self._send(title, "\n".join(lines[:50]), kind="success")

    async def _send(self, title: str, body: str, *, kind: str) -> None:
        try:
            settings = self.ctx.settings
            result = await send(
                list(settings.notification_urls),
                title,
                body,
                kind=kind,
                allowed_networks=settings.allowed_private_networks,
            )
        except Exception as exc:  # a notifier must never take the server down
            log.warning("notification failed", error=str(exc))
            return
        if result.failed:
            log.warning("notification not delivered", targets=result.failed)
