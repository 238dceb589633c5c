"""The pages outside the app's layout: setup, login, and the API docs.

No inline script anywhere (the CSP forbids it): forms are sent by static/app.js with the
CSRF token from the page's <meta name="csrf-token">.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from showkeeper import __version__
from showkeeper.auth.crypto import new_secret
from showkeeper.web.auth import PrincipalDep, set_pre_csrf_cookie, setup_missing
from showkeeper.web.deps import CtxDep
from showkeeper.web.pages.render import templates

router = APIRouter(include_in_schema=False)


def _form_page(request: Request, ctx: Any, name: str, **values: Any) -> Response:
    token = new_secret()
    response = templates.TemplateResponse(
        request, name, {"csrf_token": token, "version": __version__, **values}
    )
    set_pre_csrf_cookie(response, request, ctx.settings, token)
    return response


@router.get("/setup", response_class=HTMLResponse)
async def setup_page(request: Request, ctx: CtxDep) -> Response:
    """First run: master password and library folder."""
    if await setup_missing(request.app, ctx) is None:
        return RedirectResponse("/login", status_code=303)
    return _form_page(
        request,
        ctx,
        "setup.html",
        has_password=bool(getattr(request.app.state, "admin_exists", False)),
        library_dir=str(ctx.settings.library_dir or ""),
    )


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, ctx: CtxDep) -> Response:
    if await setup_missing(request.app, ctx) is not None:
        return RedirectResponse("/setup", status_code=303)
    return _form_page(request, ctx, "login.html")


@router.get("/api/docs", response_class=HTMLResponse)
async def api_docs(request: Request, principal: PrincipalDep) -> Response:
    """The operations of /openapi.json as a plain page (no CDN, no inline script)."""
    operations = []
    for path, item in sorted(request.app.openapi().get("paths", {}).items()):
        for method, op in item.items():
            operations.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": op.get("summary", ""),
                    "description": op.get("description", ""),
                    "tag": (op.get("tags") or [""])[0],
                }
            )
    return templates.TemplateResponse(
        request,
        "docs.html",
        {
            "operations": operations,
            "version": __version__,
            "csrf_token": principal.csrf_token or "",
        },
    )
