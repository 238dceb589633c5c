"""Authentication for every route: a pure ASGI middleware plus route dependencies.

Default deny: a request is let through without credentials only to the health checks,
static files, the login and setup pages and their POST endpoints. Everything else, including
routes other modules add later, needs an X-Api-Key header, an `Authorization: Bearer`
token (or `?token=` on the WebSocket) or the session cookie. Until setup is complete only
setup answers. Cookie-authenticated state-changing requests need the session's CSRF token
in X-CSRF-Token; every state-changing request must be same-origin (web/security.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import parse_qs

from fastapi import Depends, FastAPI
from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from showkeeper.auth import throttle
from showkeeper.auth.crypto import digest, same
from showkeeper.auth.errors import AuthError
from showkeeper.auth.principal import Credentials, Principal, authenticate
from showkeeper.auth.users import user_count
from showkeeper.config import Settings
from showkeeper.context import AppContext
from showkeeper.web.security import (
    UNSAFE_METHODS,
    allowed_hosts,
    cookies,
    cross_site_reason,
    header,
    is_browser_request,
    is_https,
    origin_ok,
)

SESSION_COOKIE = "showkeeper_session"
PRE_CSRF_COOKIE = "showkeeper_csrf"
CSRF_HEADER = "X-CSRF-Token"

ALWAYS_PUBLIC = frozenset({"/health", "/health/ready", "/setup", "/login"})
SETUP_ENDPOINT = ("POST", "/api/auth/setup")
LOGIN_ENDPOINT = ("POST", "/api/auth/login")
NEED_LOGIN = (
    "authentication required: log in at /login, or send an X-Api-Key header "
    "or an Authorization: Bearer token"
)
BAD_CREDENTIALS = "invalid, expired or revoked credentials; log in again"
CSRF_FAILED = "CSRF token missing or wrong; reload the page and try again"

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


def _wants_json(path: str) -> bool:
    return path != "/api/docs" and path.startswith(
        ("/api/", "/ws", "/metrics", "/openapi.json", "/health", "/feed/")
    )


async def setup_missing(app: FastAPI, ctx: AppContext) -> str | None:
    """What setup still lacks, as the message to show; None once setup is complete."""
    missing = []
    if not getattr(app.state, "admin_exists", False):
        async with ctx.db.session() as s:
            if await user_count(s) > 0:
                app.state.admin_exists = True
            else:
                missing.append("a master password")
    if ctx.settings.library_dir is None:
        missing.append("a library folder")
    if not missing:
        return None
    return (
        f"setup required: set {' and '.join(missing)} at /setup "
        "(or POST /api/auth/setup with password and library_dir)"
    )


# --- the API key in the query string (Sonarr clients and calendar apps) -----------------

QUERY_KEY_PREFIX = "/api/v3/"
QUERY_KEY_PATHS = frozenset({"/feed/v3/calendar/showkeeper.ics"})


def query_api_key(scope: Scope) -> str | None:
    """``?apikey=`` on the Sonarr v3 API and the iCal feed only (everything else refuses it:
    a key in a URL ends up in browser history and proxy logs). Log lines redact it
    (logging.py)."""
    path = str(scope.get("path", ""))
    if not (path.startswith(QUERY_KEY_PREFIX) or path in QUERY_KEY_PATHS):
        return None
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    return (query.get("apikey") or [None])[0] or None


# ------------------------------------------------------------------------------------------


def credentials(scope: Scope) -> Credentials:
    bearer = None
    authorization = header(scope, b"authorization") or ""
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        bearer = value.strip()
    if bearer is None and scope["type"] == "websocket":
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        bearer = (query.get("token") or [None])[0]
    return Credentials(
        api_key=header(scope, b"x-api-key") or query_api_key(scope),
        bearer=bearer,
        session=cookies(scope).get(SESSION_COOKIE) or None,
    )


def pre_session_csrf_ok(scope: Scope) -> bool:
    """Login and setup from a browser: the page's token must come back in the header."""
    if not is_browser_request(scope):
        return True  # not a browser, so not a CSRF vector (no ambient credentials)
    cookie = cookies(scope).get(PRE_CSRF_COOKIE)
    sent = header(scope, CSRF_HEADER.lower().encode())
    return bool(cookie and sent and same(cookie, sent))


class AuthMiddleware:
    """Setup gate, same-origin check, credentials and CSRF for every HTTP and WebSocket request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        fastapi_app: FastAPI = scope["app"]
        ctx: AppContext | None = getattr(fastapi_app.state, "ctx", None)
        if ctx is None:  # not started (no lifespan): nothing can be checked
            await _deny(scope, receive, send, 503, "showkeeper is starting; try again")
            return
        path = str(scope.get("path", ""))
        method = str(scope.get("method", "GET")) if scope["type"] == "http" else "GET"
        trusted = ctx.settings.trusted_proxies
        allowed = allowed_hosts(ctx.settings)
        if method in UNSAFE_METHODS and (reason := cross_site_reason(scope, trusted, allowed)):
            await _deny(scope, receive, send, 403, reason)
            return
        if method in ("GET", "HEAD") and (path in ALWAYS_PUBLIC or path.startswith("/static/")):
            await self.app(scope, receive, send)
            return
        missing = await setup_missing(fastapi_app, ctx)
        if missing is not None:
            if (method, path) == SETUP_ENDPOINT:
                await self._public(scope, receive, send)
            elif _wants_json(path) or scope["type"] == "websocket" or method != "GET":
                await _deny(scope, receive, send, 403, missing)
            else:
                await RedirectResponse("/setup", status_code=303)(scope, receive, send)
            return
        if (method, path) == LOGIN_ENDPOINT or (
            path == "/metrics" and method == "GET" and ctx.settings.metrics_public
        ):
            await self._public(scope, receive, send)
            return
        creds = credentials(scope)
        now = fastapi_app.state.clock()
        principal = await _authenticate(fastapi_app, ctx, creds, now) if creds.any else None
        if principal is None:
            await _unauthenticated(scope, receive, send, path, bool(creds.any))
            return
        if principal.method == "session":
            if scope["type"] == "websocket":
                origin = header(scope, b"origin")
                if origin is None or not origin_ok(scope, origin, trusted, allowed):
                    await _deny(scope, receive, send, 403, "WebSocket origin refused")
                    return
            elif method in UNSAFE_METHODS:
                sent = header(scope, CSRF_HEADER.lower().encode())
                if not (sent and principal.csrf_token and same(sent, principal.csrf_token)):
                    await _deny(scope, receive, send, 403, CSRF_FAILED)
                    return
        scope.setdefault("state", {})["principal"] = principal
        await self.app(scope, receive, send)

    async def _public(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not pre_session_csrf_ok(scope):
            await _deny(scope, receive, send, 403, CSRF_FAILED)
            return
        await self.app(scope, receive, send)


class AuthCache:
    """Principals by credential digest for a few seconds, so a busy API client does not cost
    a database read per request. Cleared in this process on every logout, revocation and
    key rotation; another process's revocation takes effect within `ttl_s`."""

    def __init__(self, ttl_s: float = 5.0, max_entries: int = 1024) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._entries: dict[str, tuple[float, Principal]] = {}

    def get(self, key: str, now: datetime) -> Principal | None:
        hit = self._entries.get(key)
        if hit is None:
            return None
        stored_at, principal = hit
        if time.monotonic() - stored_at > self.ttl_s or (
            principal.expires_at is not None and principal.expires_at <= now
        ):
            del self._entries[key]
            return None
        return principal

    def put(self, key: str, principal: Principal) -> None:
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[key] = (time.monotonic(), principal)

    def clear(self) -> None:
        self._entries.clear()


def auth_cache(app: FastAPI) -> AuthCache:
    cache: AuthCache | None = getattr(app.state, "auth_cache", None)
    if cache is None:
        cache = app.state.auth_cache = AuthCache()
    return cache


async def _authenticate(
    app: FastAPI, ctx: AppContext, creds: Credentials, now: datetime
) -> Principal | None:
    cache = auth_cache(app)
    key = digest(f"{creds.api_key}\0{creds.bearer}\0{creds.session}")
    principal = cache.get(key, now)
    if principal is None:
        principal = await authenticate(ctx.db, creds, now=now)
        if principal is not None:
            cache.put(key, principal)
    return principal


async def _deny(scope: Scope, receive: Receive, send: Send, status: int, detail: str) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008, "reason": detail[:120]})
        return
    await JSONResponse({"detail": detail}, status_code=status)(scope, receive, send)


async def _unauthenticated(
    scope: Scope, receive: Receive, send: Send, path: str, presented: bool
) -> None:
    if scope["type"] == "websocket":
        await _deny(scope, receive, send, 401, NEED_LOGIN)
        return
    if _wants_json(path) or scope.get("method") != "GET":
        response: Response = JSONResponse(
            {"detail": BAD_CREDENTIALS if presented else NEED_LOGIN},
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )
    else:
        response = RedirectResponse("/login", status_code=303)
    await response(scope, receive, send)


# --- route dependencies ---------------------------------------------------------------


def get_principal(conn: HTTPConnection) -> Principal:
    principal: Principal | None = conn.scope.get("state", {}).get("principal")
    if principal is None:  # the middleware lets no such request through; defence in depth
        raise AuthError(NEED_LOGIN)
    return principal


def get_clock(conn: HTTPConnection) -> Clock:
    clock: Clock = conn.app.state.clock
    return clock


class LoginThrottle:
    """The login throttle of this app: auth/throttle.py with the current settings and clock."""

    def __init__(self, conn: HTTPConnection) -> None:
        ctx: AppContext = conn.app.state.ctx
        self._ctx = ctx
        self._clock: Clock = conn.app.state.clock

    async def reserve(self, client: str, account: str) -> None:
        """Raises TooManyAttemptsError; else the attempt counts as failed until released."""
        s = self._ctx.settings
        limits = throttle.ThrottleLimits(
            s.login_max_failures, s.login_account_max_failures, s.login_lockout_s
        )
        await throttle.reserve(self._ctx.db, client, account, limits=limits, now=self._clock())

    async def release(self, client: str, account: str) -> None:
        await throttle.release(self._ctx.db, client, account)


PrincipalDep = Annotated[Principal, Depends(get_principal)]
ClockDep = Annotated[Clock, Depends(get_clock)]
ThrottleDep = Annotated[LoginThrottle, Depends(LoginThrottle)]


# --- cookies ----------------------------------------------------------------------------


def _secure(conn: HTTPConnection, settings: Settings) -> bool:
    if settings.cookie_secure != "auto":
        return settings.cookie_secure == "always"
    return is_https(conn.scope, settings.trusted_proxies)


def set_session_cookie(
    response: Response, conn: HTTPConnection, settings: Settings, raw: str, max_age: int
) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        raw,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="strict",
        secure=_secure(conn, settings),
    )


def clear_session_cookie(response: Response, conn: HTTPConnection, settings: Settings) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="strict", secure=_secure(conn, settings)
    )


def set_pre_csrf_cookie(
    response: Response, conn: HTTPConnection, settings: Settings, token: str
) -> None:
    response.set_cookie(
        PRE_CSRF_COOKIE,
        token,
        max_age=3600,
        path="/",
        httponly=True,
        samesite="strict",
        secure=_secure(conn, settings),
    )
