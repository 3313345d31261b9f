"""What every request and response of the web apps goes through: security headers on every
answer, the same-origin check on every write, and a clear 4xx for every refused request.

A write (POST and friends) must be JSON, which no cross-site form can send, and must carry
an ``Origin`` (or, failing that, a ``Referer``) that is one of the manager's app's own
origins: the configured ``[web] origins`` and the listener's own address. The request's
``Host`` header proves nothing (a forged request forges it too), so it is never compared.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from aiohttp import web

from web.errors import ApiError
from web.pages import SECURITY_HEADERS, not_found_page

if TYPE_CHECKING:
    from aiohttp.typedefs import Handler

log = logging.getLogger(__name__)

SERVER = "lobby"  # the Server header: no software name, no version
Origin = tuple[str, str, int]  # scheme, host (lower case), port
ORIGINS: web.AppKey[frozenset[Origin]] = web.AppKey("origins", frozenset)
_DEFAULT_PORT = {"http": 80, "https": 443}
_WILDCARD = ("", "0.0.0.0", "::")
_UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def parse_origin(text: str) -> Origin | None:
    """The origin of an ``Origin`` header or a URL, or None if it has none."""
    try:
        parts = urlsplit(text.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in _DEFAULT_PORT or not parts.hostname or "@" in parts.netloc:
        return None
    return parts.scheme, parts.hostname.lower(), port or _DEFAULT_PORT[parts.scheme]


def served_origins(host: str, port: int, configured: Iterable[str],
                   scheme: str = "http") -> frozenset[Origin]:
    """The origins a listener answers writes from: ``configured``, and its own address (by
    ``scheme``) unless it listens on every address (then only the configured ones say which)."""
    found = {parsed for text in configured if (parsed := parse_origin(text)) is not None}
    if host not in _WILDCARD:
        found.add((scheme, host.strip("[]").lower(), port))
    return frozenset(found)


def check_write(request: web.Request, allowed: frozenset[Origin]) -> None:
    """A write must be JSON from one of the app's own origins, or an ApiError 415/403."""
    if request.content_type != "application/json":
        raise ApiError(415, "unsupported_media_type",
                       "send the body as JSON (Content-Type: application/json)")
    source = request.headers.get("Origin") or request.headers.get("Referer")
    if source is None:
        raise ApiError(403, "cross_origin", "a write must come from this app's own pages "
                                            "(an Origin header is required)")
    if parse_origin(source) not in allowed:
        raise ApiError(403, "cross_origin", "requests from another site are refused")


def error_json(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"ok": False, "error": {"code": code, "message": message}},
                             status=status)


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """CSRF checks on writes; every failure a clear 4xx (or the one 404 page)."""
    try:
        if request.method in _UNSAFE:
            check_write(request, request.app[ORIGINS])
        return await handler(request)
    except ApiError as exc:
        return error_json(exc.status, exc.code, exc.message)
    except web.HTTPException as exc:
        if exc.status == 404 and not request.path.startswith("/api/"):
            return not_found_page()
        if exc.status >= 400 and request.path.startswith("/api/"):
            return error_json(exc.status, "http", exc.reason)
        raise
    except Exception:
        log.exception("web request %s %s failed", request.method, request.path)
        return error_json(500, "internal", "internal error; see the controller log")


async def _headers(request: web.Request, response: web.StreamResponse) -> None:
    response.headers.update(SECURITY_HEADERS)
    response.headers["Server"] = SERVER
    if request.path.startswith("/api/"):
        response.headers["Cache-Control"] = "no-store"


def secured(client_max_size: int, origins: frozenset[Origin] = frozenset()) -> web.Application:
    """A new app with the guard and the security headers on every response it sends; it
    reads bodies up to ``client_max_size`` and takes writes from ``origins`` only."""
    app = web.Application(middlewares=[guard], client_max_size=client_max_size)
    app[ORIGINS] = origins
    app.on_response_prepare.append(_headers)
    return app


def safe_next(target: str | None, fallback: str = "/live") -> str:
    """``target`` if it is a path on this very site, else ``fallback``: where to go after
    signing in. Parsed, not prefix-checked: browsers read ``\\`` as ``/`` and drop tabs and
    newlines, so ``/\\evil.example`` or ``/\\t/evil.example`` would leave the site."""
    if not target or any(c == "\\" or ord(c) < 0x21 or ord(c) == 0x7F for c in target):
        return fallback
    parts = urlsplit(target)
    if not target.startswith("/") or target.startswith("//") or parts.scheme or parts.netloc:
        return fallback
    return target
