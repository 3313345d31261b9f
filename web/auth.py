"""Sign-in for managers and supervisors: the login API, the session cookie, role checks.

The cookie holds only a random session token: HttpOnly, SameSite=Strict. Every state-changing
request must also be JSON from the app's own origin (checked in guard.py). Password hashing
runs in a worker thread so that it never stalls the hall's event loop; the lockout reserves
each check before it starts, so sign-ins sent at once are counted like ones sent in turn.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from functools import lru_cache
from typing import Any
from urllib.parse import quote

from aiohttp import web

from web.accounts import ITERATIONS, AccountBook, check_password, hash_password
from web.errors import ApiError
from web.sessions import Lockout, Session, Sessions

log = logging.getLogger(__name__)

COOKIE = "lobby_session"
SESSION_KEY = "session"
MAX_FIELD = 200
MAX_DEPTH = 8  # no command body nests deeper


@lru_cache(maxsize=1)
def _decoy_hash() -> str:
    """A hash to check unknown names against, so they take as long as known ones."""
    return hash_password("not-a-real-password", ITERATIONS)


async def json_body(request: web.Request) -> dict[str, Any]:
    """The request's JSON object, or an ApiError saying what is wrong with it."""
    too_deep = ApiError(400, "malformed", f"the body is nested more than {MAX_DEPTH} deep")
    try:
        body = await request.json()
    except ValueError:
        raise ApiError(400, "malformed", "the body is not valid JSON") from None
    except RecursionError:
        raise too_deep from None
    if _depth(body) > MAX_DEPTH:
        raise too_deep
    if not isinstance(body, dict):
        raise ApiError(400, "malformed", "the body must be a JSON object")
    try:
        json.dumps(body, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise ApiError(400, "malformed", "the body holds text that is not valid Unicode "
                                         "(a lone surrogate such as \\ud800)") from None
    return body


def _depth(value: object) -> int:
    """How deeply lists and objects nest in a parsed JSON value (without recursion)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            if depth <= MAX_DEPTH:
                stack.extend((v, depth + 1) for v in (item.values() if isinstance(item, dict)
                                                      else item))
    return deepest


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
        """The request's live session, checked against the accounts file as it is now: a
        removed account, or a changed password, ends it."""
        session = self.sessions.get(request.cookies.get(COOKIE))
        if session is None:
            return None
        account = self.book.get(session.name)
        if account is None or account.password_hash != session.stamp:
            self.sessions.end_all(session.name,
                                  keep_stamp=account.password_hash if account else None)
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
        pair = (name, request.remote or "")
        wait = self.lockout.begin(pair)  # reserved before the slow hash: none can overtake
        if wait > 0:
            raise _locked(wait)
        account, matches = self.book.get(name), False
        try:
            stored = account.password_hash if account is not None else _decoy_hash()
            matches = await asyncio.to_thread(check_password, password, stored)
        finally:
            wait = self.lockout.end(pair, account is not None and matches)
        if account is None or not matches:
            log.warning("failed sign-in for %r from %s", name, request.remote)
            if wait > 0:
                raise _locked(wait)
            raise ApiError(401, "bad_credentials", "name or password not recognised")
        session = self.sessions.start(account.name, account.role, account.password_hash)
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
    minutes = max(1, math.ceil(round(wait_s) / 60))  # (now + 900) - now may be 900.0000001
    return ApiError(429, "locked", f"too many failed sign-ins: try again in {minutes} min")
