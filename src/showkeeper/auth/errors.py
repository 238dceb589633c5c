"""Authentication errors; messages are generic where detail would help an attacker."""

from __future__ import annotations

from showkeeper.errors import ShowkeeperError


class AuthError(ShowkeeperError):
    """Missing, wrong, expired or revoked credentials."""

    status_code = 401
    headers = {"WWW-Authenticate": "Bearer"}


class WeakPasswordError(ShowkeeperError):
    status_code = 400


class TooManyAttemptsError(ShowkeeperError):
    """Login throttled; `retry_after` is the number of seconds to wait."""

    status_code = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed logins; try again in {retry_after} seconds")
        self.retry_after = retry_after
        self.headers = {"Retry-After": str(retry_after)}
