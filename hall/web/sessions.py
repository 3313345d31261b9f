"""Sign-in sessions and the lockout after repeated failures, both kept in memory.

Sessions live in the controller's process only: a restart signs everyone out, which is the
price of keeping no session secrets on disk. A session ends after ``IDLE_S`` without use or
``MAX_AGE_S`` after sign-in. After ``MAX_FAILURES`` failed sign-ins within ``LOCK_S`` an
account, and separately a client address, is locked for ``LOCK_S``.
"""

from __future__ import annotations

import secrets
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from hall.web.accounts import WebRole

IDLE_S = 4 * 3600.0
MAX_AGE_S = 12 * 3600.0
MAX_FAILURES = 5
LOCK_S = 15 * 60.0


@dataclass(slots=True)
class Session:
    """A signed-in person: who, with which role, and since when (monotonic seconds)."""

    token: str
    name: str
    role: WebRole
    started: float
    seen: float

    @property
    def may_act(self) -> bool:
        return self.role is WebRole.MANAGER


class Sessions:
    """Random session tokens → sessions; expired ones are dropped when looked up."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._by_token: dict[str, Session] = {}

    def start(self, name: str, role: WebRole) -> Session:
        now = self._clock()
        self._sweep(now)
        session = Session(secrets.token_urlsafe(32), name, role, now, now)
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

    def end_all(self, name: str) -> None:
        """Sign a person out everywhere (their account was removed or changed)."""
        for token in [t for t, s in self._by_token.items() if s.name == name]:
            del self._by_token[token]

    def _sweep(self, now: float) -> None:
        stale = [t for t, s in self._by_token.items()
                 if now - s.seen > IDLE_S or now - s.started > MAX_AGE_S]
        for token in stale:
            del self._by_token[token]


@dataclass(slots=True)
class _Record:
    failures: deque[float] = field(default_factory=deque)
    locked_until: float = 0.0


class Lockout:
    """Counts failed sign-ins per key ("account:NAME", "address:IP") and locks busy keys."""

    def __init__(self, clock: Callable[[], float] = time.monotonic,
                 max_failures: int = MAX_FAILURES, lock_s: float = LOCK_S) -> None:
        self._clock = clock
        self.max_failures = max_failures
        self.lock_s = lock_s
        self._records: dict[str, _Record] = {}

    def locked_for(self, keys: Iterable[str]) -> float:
        """Seconds until every one of ``keys`` may try again (0: they may now)."""
        now = self._clock()
        waits = [r.locked_until - now for k in keys if (r := self._records.get(k)) is not None]
        return max([0.0, *waits])

    def failed(self, keys: Iterable[str]) -> None:
        now = self._clock()
        for key in keys:
            record = self._records.setdefault(key, _Record())
            record.failures.append(now)
            while record.failures and now - record.failures[0] > self.lock_s:
                record.failures.popleft()
            if len(record.failures) >= self.max_failures:
                record.locked_until = now + self.lock_s
                record.failures.clear()
        if len(self._records) > 10_000:
            self._forget(now)

    def succeeded(self, keys: Iterable[str]) -> None:
        for key in keys:
            self._records.pop(key, None)

    def _forget(self, now: float) -> None:
        """Drop records with nothing recent, so a flood of addresses cannot grow memory."""
        for key in [k for k, r in self._records.items()
                    if r.locked_until <= now and (not r.failures
                                                  or now - r.failures[-1] > self.lock_s)]:
            del self._records[key]
