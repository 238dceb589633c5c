"""Notifications: send a test message."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from showkeeper.errors import ShowkeeperError
from showkeeper.notifications import send
from showkeeper.web.deps import CtxDep

router = APIRouter(prefix="/api/notifications", tags=["notifications"])


class TestIn(BaseModel):
    urls: list[str] | None = Field(
        None, max_length=20, description="Apprise URLs to try; default: notification_urls."
    )


class TestOut(BaseModel):
    sent: int
    failed: list[str] = Field(description="Targets that did not accept it (URL scheme only).")


@router.post("/test")
async def test_notification(ctx: CtxDep, body: TestIn | None = None) -> TestOut:
    """Send a test notification to the configured (or given) apprise URLs."""
    urls = (body.urls if body and body.urls else None) or list(ctx.settings.notification_urls)
    if not urls:
        raise ShowkeeperError(
            "no notification URLs: set notification_urls (apprise URLs) in the settings first"
        )
    if any(len(u) > 2000 for u in urls):
        raise ShowkeeperError("a notification URL is longer than 2000 characters")
    result = await send(
        urls,
        "showkeeper test",
        "If you can read this, notifications work.",
        allowed_networks=ctx.settings.allowed_private_networks,
    )
    return TestOut(sent=result.sent, failed=result.failed)
