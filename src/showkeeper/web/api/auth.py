"""Setup, login, logout, status, API key rotation and token revocation."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError

from showkeeper.auth import account, api_keys, sessions
from showkeeper.auth.errors import AuthError
from showkeeper.auth.passwords import check_strength, hash_password, needs_rehash, verify_password
from showkeeper.auth.users import ADMIN, create_user, get_user
from showkeeper.config import SettingsError
from showkeeper.context import AppContext
from showkeeper.errors import ConflictError, ShowkeeperError
from showkeeper.events import CREDENTIALS_CHANGED
from showkeeper.library.service import start_scan
from showkeeper.logging import get_logger
from showkeeper.web.auth import (
    ClockDep,
    PrincipalDep,
    ThrottleDep,
    auth_cache,
    clear_session_cookie,
    set_session_cookie,
    setup_missing,
)
from showkeeper.web.config_apply import update_config
from showkeeper.web.deps import CtxDep
from showkeeper.web.security import client_ip

router = APIRouter(prefix="/api/auth", tags=["auth"])
log = get_logger(__name__)
WRONG_LOGIN = "wrong username or password"
# expired and revoked rows are kept this long (audit), then deleted at the next login
_KEEP_DEAD = timedelta(days=7)


class SetupIn(BaseModel):
    password: str = Field(
        max_length=1024, description="The master password (at least 8 characters)."
    )
    library_dir: str | None = Field(
        None, max_length=4096, description="Absolute path of the library folder."
    )
    tmdb_api_key: str | None = Field(
        None, max_length=200, description="Optional TMDB v3 API key for metadata."
    )


class PasswordIn(BaseModel):
    current_password: str = Field(max_length=1024)
    new_password: str = Field(max_length=1024, description="At least 8 characters.")


class PasswordOut(BaseModel):
    changed: bool
    revoked: int = Field(description="Other sessions and bearer tokens that were ended.")


class SetupOut(BaseModel):
    username: str
    library_dir: str
    api_key: str | None = Field(
        description="Shown once; store it now. None when setup only set the library."
    )


class LoginIn(BaseModel):
    username: str = Field(ADMIN, max_length=150)
    password: str = Field(max_length=1024)
    mode: Literal["token", "session"] = Field(
        "token",
        description="token: return a bearer token (API clients); session: set the browser session cookie.",
    )


class LoginOut(BaseModel):
    method: Literal["token", "session"]
    expires_at: datetime
    token: str | None = None
    csrf_token: str | None = None


class StatusOut(BaseModel):
    authenticated: bool
    username: str
    method: Literal["api_key", "token", "session"]
    expires_at: datetime | None = None
    csrf_token: str | None = None


class ApiKeyOut(BaseModel):
    api_key: str
    prefix: str


class RevokeIn(BaseModel):
    token: str | None = Field(None, max_length=200, description="A bearer token to revoke.")
    all: bool = Field(False, description="Revoke every token and every other session.")


class RevokeOut(BaseModel):
    revoked: int


class LoggedOut(BaseModel):
    logged_out: bool


@router.post("/setup", status_code=201)
async def setup(body: SetupIn, request: Request, ctx: CtxDep, throttle: ThrottleDep) -> SetupOut:
    """First run: set the master password and the library folder; returns the first API key."""
    if await setup_missing(request.app, ctx) is None:
        raise ConflictError("setup is already complete; change settings with PUT /api/config")
    library = body.library_dir or ctx.settings.library_dir
    if library is None:
        raise SettingsError("library_dir is required: the absolute path of the library folder")
    async with ctx.db.session() as s:
        admin = await get_user(s, ADMIN)
    api_key = None
    first: dict[str, str] = {"library_dir": str(library)}
    if body.tmdb_api_key and body.tmdb_api_key.strip():
        first["tmdb_api_key"] = body.tmdb_api_key.strip()
    if admin is None:
        check_strength(body.password)
        # One transaction: the admin row is inserted (and wins the unique username) before
        # config.json is written, so a request that loses the race writes nothing; a library
        # folder that cannot be used rolls the admin back.
        try:
            async with ctx.db.write() as s:
                user = await create_user(s, username=ADMIN, password=body.password)
                api_key = await api_keys.create_key(s, user_id=user.id)
                await update_config(ctx, first, session=s)
        except (IntegrityError, ConflictError):
            raise ConflictError("setup was completed by another request") from None
    else:
        # The password exists but the library folder does not: prove the password first.
        client = client_ip(request.scope, ctx.settings.trusted_proxies)
        await throttle.reserve(client, ADMIN)
        if not await verify_password(admin.password_hash, body.password):
            raise AuthError("wrong password")  # the reserved attempt stays as a failure
        await throttle.release(client, ADMIN)
        await update_config(ctx, first)
    request.app.state.admin_exists = True
    assert ctx.settings.library_dir is not None
    await _first_scan(ctx)
    return SetupOut(username=ADMIN, library_dir=str(ctx.settings.library_dir), api_key=api_key)


async def _first_scan(ctx: AppContext) -> None:
    """Right after setup the library folder is scanned, so existing series show at once."""
    try:
        await start_scan(ctx)
    except ShowkeeperError as exc:  # a scan already running, or an unreadable folder
        log.warning("no scan after setup", error=str(exc))


@router.post("/login", responses={401: {}, 429: {}})
async def login(
    body: LoginIn, request: Request, ctx: CtxDep, clock: ClockDep, throttle: ThrottleDep
) -> LoginOut:
    """Log in: a bearer token (mode=token) or a browser session cookie (mode=session)."""
    client = client_ip(request.scope, ctx.settings.trusted_proxies)
    account = body.username.strip().lower()[:150]
    await throttle.reserve(client, account)  # before the check: parallel guesses count too
    async with ctx.db.session() as s:
        user = await get_user(s, body.username)
    if not await verify_password(user.password_hash if user else None, body.password):
        raise AuthError(WRONG_LOGIN)  # the reserved attempt stays as a failure
    assert user is not None
    await throttle.release(client, account)
    now = clock()
    settings = ctx.settings
    ttl = timedelta(
        hours=settings.session_ttl_hours if body.mode == "session" else settings.token_ttl_hours
    )
    user_agent = request.headers.get("user-agent", "")
    async with ctx.db.write() as s:
        await sessions.purge(s, now=now, keep=_KEEP_DEAD)
        old = request.cookies.get("showkeeper_session")
        if body.mode == "session" and old:  # a fresh session id at every login
            await sessions.revoke_secret(s, old, user_id=user.id, now=now)
            auth_cache(request.app).clear()
        raw, row = await sessions.issue(
            s, user_id=user.id, kind=body.mode, ttl=ttl, now=now, client=f"{client} {user_agent}"
        )
        if needs_rehash(user.password_hash):
            stored = await get_user(s, user.username)
            if stored is not None:
                stored.password_hash = await hash_password(body.password)
    if body.mode == "token":
        return LoginOut(method="token", token=raw, expires_at=row.expires_at)
    out = LoginOut(method="session", csrf_token=row.csrf_token, expires_at=row.expires_at)
    response = JSONResponse(out.model_dump(mode="json"))
    set_session_cookie(response, request, settings, raw, int(ttl.total_seconds()))
    return response  # type: ignore[return-value]


@router.post("/logout")
async def logout(
    request: Request, ctx: CtxDep, principal: PrincipalDep, clock: ClockDep
) -> LoggedOut:
    """End this session or revoke this bearer token (server-side)."""
    if principal.session_id is None:
        raise ShowkeeperError(
            "an API key is not a login; replace it with POST /api/auth/api-key/rotate"
        )
    async with ctx.db.write() as s:
        await sessions.revoke(s, row_id=principal.session_id, now=clock())
    credentials_changed(request, ctx)
    response = JSONResponse(LoggedOut(logged_out=True).model_dump())
    clear_session_cookie(response, request, ctx.settings)
    return response  # type: ignore[return-value]


@router.get("/status")
async def status(principal: PrincipalDep) -> StatusOut:
    """Who is logged in, how, until when; the CSRF token of a browser session."""
    return StatusOut(
        authenticated=True,
        username=principal.username,
        method=principal.method,
        expires_at=principal.expires_at,
        csrf_token=principal.csrf_token,
    )


@router.post("/api-key/rotate")
async def rotate_api_key(
    request: Request, ctx: CtxDep, principal: PrincipalDep, clock: ClockDep
) -> ApiKeyOut:
    """Replace the API key: the old one stops working now; the new one is shown once."""
    async with ctx.db.write() as s:
        raw = await api_keys.rotate(s, user_id=principal.user_id, now=clock())
    credentials_changed(request, ctx)
    return ApiKeyOut(api_key=raw, prefix=raw[:10])


@router.post("/tokens/revoke")
async def revoke_tokens(
    body: RevokeIn, request: Request, ctx: CtxDep, principal: PrincipalDep, clock: ClockDep
) -> RevokeOut:
    """Revoke one bearer token, the one in use (no body), or all tokens and other sessions."""
    now = clock()
    async with ctx.db.write() as s:
        if body.all:
            count = await sessions.revoke_all(
                s, user_id=principal.user_id, now=now, except_id=_current_session(principal)
            )
        elif body.token:
            count = int(
                await sessions.revoke_secret(s, body.token, user_id=principal.user_id, now=now)
            )
        elif principal.method == "token" and principal.session_id is not None:
            count = int(await sessions.revoke(s, row_id=principal.session_id, now=now))
        else:
            raise ShowkeeperError('say which: {"token": "..."} or {"all": true}')
    credentials_changed(request, ctx)
    return RevokeOut(revoked=count)


@router.post("/password")
async def change_password(
    body: PasswordIn,
    request: Request,
    ctx: CtxDep,
    principal: PrincipalDep,
    clock: ClockDep,
    throttle: ThrottleDep,
) -> PasswordOut:
    """Change the master password (the current one is required); every other session and
    every bearer token is revoked, this browser session stays."""
    client = client_ip(request.scope, ctx.settings.trusted_proxies)
    await throttle.reserve(client, principal.username)  # a wrong current password counts
    revoked = await account.change_password(
        ctx.db,
        user_id=principal.user_id,
        current=body.current_password,
        new=body.new_password,
        now=clock(),
        keep_session_id=_current_session(principal),
    )
    await throttle.release(client, principal.username)
    credentials_changed(request, ctx)
    return PasswordOut(changed=True, revoked=revoked)


def credentials_changed(request: Request, ctx: CtxDep) -> None:
    """A credential ended: forget cached principals here, and tell every process's open
    WebSockets to check theirs now (the event crosses processes on PostgreSQL)."""
    auth_cache(request.app).clear()
    ctx.bus.publish(CREDENTIALS_CHANGED)


def _current_session(principal: PrincipalDep) -> int | None:
    """A browser revoking everything keeps its own session (it logs out separately)."""
    return principal.session_id if principal.method == "session" else None
