"""Errors a user can meet. Each message says what happened and what to do next."""

from __future__ import annotations


class ShowkeeperError(Exception):
    """Base of errors shown to a user as one line (CLI) or a JSON message (API).

    `status_code` is the HTTP status the API answers with; `exit_code` the CLI's (0 done,
    1 failed, 2 usage or not found).
    """

    status_code: int = 400
    exit_code: int = 1


class StartupError(ShowkeeperError):
    """showkeeper cannot start: the message names the cause and the fix."""

    status_code = 500


class NotFoundError(ShowkeeperError):
    status_code = 404
    exit_code = 2


class ConflictError(ShowkeeperError):
    status_code = 409
