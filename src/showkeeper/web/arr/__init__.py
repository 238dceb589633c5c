"""Sonarr v3 compatible routes: a mapping layer over our services (no second database, no
copied logic), so tools built for Sonarr (Homepage, Home Assistant, LunaSea, Bazarr, pyarr
scripts) work against showkeeper. docs/API.md lists what is served."""

from fastapi import APIRouter

from showkeeper.web.arr import commands, episodes, feed, queue, series, system, wanted


def routers() -> list[APIRouter]:
    return [
        system.router,
        series.router,
        episodes.router,
        queue.router,
        wanted.router,
        commands.router,
        feed.router,
    ]
