"""Sign-in for managers and supervisors: the login API, the session cookie, role checks.

The cookie holds only a random session token: HttpOnly, SameSite=Strict. Every state-changing
request must also be JSON (checked in app.py), which a cross-site form cannot send. Password
hashing runs in a worker thread so that it never stalls the hall's event loop.
"""

from __future__ import annotations

import asyncio
import logging
import math
from functools import lru_cache
from typing import Any
from urllib.parse import quote

from aiohttp import web

from hall.web.accounts import ITERATIONS, AccountBook, check_password, hash_password
from hall.web.errors import ApiError
from hall.web.sessions import Lockout, Session, Sessions

log = logging.getLogger(__name__)

COOKIE = "lobby_session"
SESSION_KEY = "session"
MAX_FIELD = 200


@lru_cache(maxsize=1)
def _decoy_hash() -> str:
    """A hash to check unknown names against, so they take as long as known ones."""
    return hash_password("not-a-real-password", ITERATIONS)


async def json_body(request: web.Request) -> dict[str, Any]:
    """The request's JSON object, or an ApiError saying what is wrong with it."""
    try:
        body = await request.json()
    except ValueError:
        raise ApiError(400, "malformed", "the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ApiError(400, "malformed", "the body must be a JSON object")
    return body


def _text_field(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value or len(value) > MAX_FIELD:
        raise ApiError(400, "malformed", f"{name}: a non-empty string of at most {MAX_FIELD} "
                                         "characters is required")
    return value


class Auth:
    """Sessions, lockout and the account book, with the handlers that use them."""

    def __init__(self, book: AccountBook, sessions: Sessions | None = None,
                 lockout: Lockout | None = None) -> None:
        self.book = book
        self.sessions = sessions or Sessions()
        self.lockout = lockout or Lockout()

    def current(self, request: web.Request) -> Session | None:
        """The request's live session, checked against the accounts file as it is now."""
        session = self.sessions.get(request.cookies.get(COOKIE))
        if session is None:
            return None
        account = self.book.get(session.name)
        if account is None:
            self.sessions.end_all(session.name)
            return None
        session.role = account.role
        return session

    def need(self, request: web.Request, act: bool = False) -> Session:
        """The signed-in session, or ApiError 401 (nobody) / 403 (a supervisor acting)."""
        session = self.current(request)
        if session is None:
            raise ApiError(401, "not_signed_in", "sign in first")
        if act and not session.may_act:
            raise ApiError(403, "forbidden", "a supervisor may look but not act")
        return session

    def page_session(self, request: web.Request) -> Session:
        """The session of a page request; without one, a redirect to the sign-in page."""
        session = self.current(request)
        if session is None:
            raise web.HTTPSeeOther(f"/login?next={quote(request.path_qs, safe='')}")
        return session

    async def login(self, request: web.Request) -> web.Response:
        body = await json_body(request)
        name, password = _text_field(body, "name"), _text_field(body, "password")
        keys = (f"account:{name}", f"address:{request.remote}")
        wait = self.lockout.locked_for(keys)
        if wait > 0:
            raise _locked(wait)
        account = self.book.get(name)
        stored = account.password_hash if account is not None else _decoy_hash()
        matches = await asyncio.to_thread(check_password, password, stored)
        if account is None or not matches:
            self.lockout.failed(keys)
            log.warning("failed sign-in for %r from %s", name, request.remote)
            wait = self.lockout.locked_for(keys)
            if wait > 0:
                raise _locked(wait)
            raise ApiError(401, "bad_credentials", "name or password not recognised")
        self.lockout.succeeded(keys)
        session = self.sessions.start(account.name, account.role)
        log.info("%s signed in (%s) from %s", account.name, account.role.value, request.remote)
        response = web.json_response({"ok": True, "name": account.name,
                                      "role": account.role.value})
        response.set_cookie(COOKIE, session.token, httponly=True, samesite="Strict", path="/",
                            secure=request.secure)
        return response

    async def logout(self, request: web.Request) -> web.Response:
        self.sessions.end(request.cookies.get(COOKIE))
        response = web.json_response({"ok": True})
        response.del_cookie(COOKIE, path="/")
        return response

    async def me(self, request: web.Request) -> web.Response:
        session = self.need(request)
        return web.json_response({"name": session.name, "role": session.role.value,
                                  "may_act": session.may_act})

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/api/login", self.login), web.post("/api/logout", self.logout),
                web.get("/api/me", self.me)]


def _locked(wait_s: float) -> ApiError:
    minutes = max(1, math.ceil(wait_s / 60))
    return ApiError(429, "locked", f"too many failed sign-ins: try again in {minutes} min")
