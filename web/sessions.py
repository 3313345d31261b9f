"""Sign-in sessions and the lockout after repeated failures, both kept in memory.

Sessions live in the controller's process only: a restart signs everyone out, which is the
price of keeping no session secrets on disk. A session ends after ``IDLE_S`` without use or
``MAX_AGE_S`` after sign-in, or when the account's password changes. ``MAX_FAILURES``
failed sign-ins of one name from one address lock that pair (only) for ``LOCK_S``, and each
further lock twice as long.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from web.accounts import WebRole

IDLE_S = 4 * 3600.0
MAX_AGE_S = 12 * 3600.0
MAX_FAILURES = 5
LOCK_S = 15 * 60.0
MAX_LOCK_S = 24 * 3600.0
FORGET_S = 24 * 3600.0  # a pair this long without a failure or lock starts afresh
MAX_RECORDS = 10_000
Pair = tuple[str, str]  # (name as typed, client address)


@dataclass(slots=True)
class Session:
    """A signed-in person: who, with which role, since when (monotonic seconds), and the
    stored password hash they signed in against (a changed password ends the session)."""

    token: str
    name: str
    role: WebRole
    started: float
    seen: float
    stamp: str

    @property
    def may_act(self) -> bool:
        return self.role is WebRole.MANAGER


class Sessions:
    """Random session tokens → sessions; expired ones are dropped when looked up."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._by_token: dict[str, Session] = {}

    def start(self, name: str, role: WebRole, stamp: str) -> Session:
        now = self._clock()
        self._sweep(now)
        session = Session(secrets.token_urlsafe(32), name, role, now, now, stamp)
        self._by_token[session.token] = session
        return session

    def get(self, token: str | None) -> Session | None:
        session = self._by_token.get(token or "")
        if session is None:
            return None
        now = self._clock()
        if now - session.seen > IDLE_S or now - session.started > MAX_AGE_S:
            del self._by_token[session.token]
            return None
        session.seen = now
        return session

    def end(self, token: str | None) -> None:
        self._by_token.pop(token or "", None)

    def end_all(self, name: str, keep_stamp: str | None = None) -> None:
        """Sign a person out everywhere (their account was removed), or everywhere they
        signed in with another password than the one stamped ``keep_stamp`` (it changed)."""
        for token in [t for t, s in self._by_token.items()
                      if s.name == name and s.stamp != keep_stamp]:
            del self._by_token[token]

    def _sweep(self, now: float) -> None:
        stale = [t for t, s in self._by_token.items()
                 if now - s.seen > IDLE_S or now - s.started > MAX_AGE_S]
        for token in stale:
            del self._by_token[token]


@dataclass(slots=True)
class _Record:
    failures: int = 0  # since the last lock
    locks: int = 0  # so far; each lasts twice as long as the one before
    in_flight: int = 0  # checks started and not yet answered
    locked_until: float = 0.0
    last: float = 0.0  # the last failure


class Lockout:
    """Failed sign-ins per (name, address) pair: the ``max_failures``-th failure locks the pair.

    ``begin`` reserves a password check and ``end`` books its outcome; a check in flight
    counts against the allowance, so requests sent at once cannot outrun the count. The
    locks grow: ``lock_s``, then twice that, and so on up to ``MAX_LOCK_S``. A success, or
    ``FORGET_S`` without a failure or lock, starts the pair afresh.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic,
                 max_failures: int = MAX_FAILURES, lock_s: float = LOCK_S) -> None:
        self._clock = clock
        self.max_failures = max_failures
        self.lock_s = lock_s
        self._records: dict[Pair, _Record] = {}

    def begin(self, pair: Pair) -> float:
        """Reserve a check for ``pair``: 0.0 if reserved, else seconds until one may start."""
        now = self._clock()
        record = self._records.get(pair)
        if record is None:
            if len(self._records) >= MAX_RECORDS:
                self._forget(now)
            record = self._records[pair] = _Record()
        elif now - max(record.last, record.locked_until) > FORGET_S:
            record.failures = record.locks = 0  # a quiet day since the last failure or lock
        if record.locked_until > now:
            return record.locked_until - now
        if record.failures + record.in_flight >= self.max_failures:
            return self.lock_s  # the checks in flight will lock it, unless one succeeds
        record.in_flight += 1
        return 0.0

    def end(self, pair: Pair, ok: bool) -> float:
        """Book a reserved check; the seconds the pair is now locked for (0.0: not locked)."""
        now = self._clock()
        record = self._records.setdefault(pair, _Record(in_flight=1))
        record.in_flight -= 1
        if ok:
            record.failures = record.locks = 0
            return 0.0
        record.failures += 1
        record.last = now
        if record.failures >= self.max_failures:
            record.failures = 0
            record.locks += 1
            doubled = self.lock_s * 2 ** min(record.locks - 1, 30)
            record.locked_until = now + min(MAX_LOCK_S, doubled)
        return max(0.0, record.locked_until - now)

    def _forget(self, now: float) -> None:
        """Drop the older half of the pairs neither locked nor in flight, so that a flood of
        names or addresses cannot grow memory without end."""
        idle = sorted((r.last, p) for p, r in self._records.items()
                      if r.locked_until <= now and not r.in_flight)
        for _, pair in idle[:max(1, len(idle) // 2)]:
            del self._records[pair]
