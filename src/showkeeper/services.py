"""The background services the server runs (scheduler, download workers, ...).

Each feature adds its service here; the lifespan starts them in order and stops
them in reverse.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from showkeeper.context import AppContext, Service


def build_services(ctx: AppContext) -> list[Service]:
    services: list[Service] = []
    return services
