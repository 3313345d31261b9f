"""Root of the web app's error tree, and the API error that becomes a JSON 4xx answer."""

from __future__ import annotations


class WebError(Exception):
    """Any failure of the hall's web app."""


class AccountsError(WebError, ValueError):
    """A managers.toml that cannot be used, or a bad name, role or password."""


class ApiError(WebError):
    """A request the API refuses: HTTP status, a machine-readable code and a message for people."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
