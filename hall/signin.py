"""Clerks' credentials, checked before a sign-in reaches the single writer.

A PIN check is a deliberately slow PBKDF2 hash: it runs in a worker thread (one at a time,
so a flood of guesses uses at most one core) and never on the writer's loop. Attempts are
limited per device and per clerk: three failures are free, then each further one waits
longer (2, 4, 8 … s), and ten within fifteen minutes lock that device or clerk for fifteen
minutes and tell the manager. Failures are counted in memory, not journaled one by one.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

from hall.engine.engine import Refused
from hallconfig import Clerk, check_pin, hash_pin, staff_card_hash
from protocol import messages as m

FREE_FAILURES = 3
LOCK_AFTER = 10
WINDOW_S = 15 * 60


@cache
def _decoy_hash() -> str:
    """Checked for an unknown staff number, so that costs as much as a wrong PIN."""
    return hash_pin("0000", salt=b"\0" * 8)


@dataclass
class _Tally:
    """One device's or clerk's recent failures, and whether a check is running for it."""

    failures: deque[float] = field(default_factory=deque)
    busy: bool = False

    def recent(self, now: float) -> int:
        while self.failures and now - self.failures[0] > WINDOW_S:
            self.failures.popleft()
        return len(self.failures)

    def wait_s(self, now: float) -> float:
        """Seconds until the next attempt is allowed (0: now)."""
        count = self.recent(now)
        if count >= LOCK_AFTER:
            return self.failures[-1] + WINDOW_S - now
        if count < FREE_FAILURES:
            return 0.0
        return self.failures[-1] + 2.0 ** (count - FREE_FAILURES + 1) - now


class SignInGuard:
    """Verifies a sign-in's staff number and PIN, or staff card, within the attempt limits."""

    def __init__(self, clerks: list[Clerk], secret: bytes,
                 on_lock: Callable[[str, str], None],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._by_number = {c.staff_no: c for c in clerks}
        self._by_card = {c.card_hash: c for c in clerks if c.card_hash}
        self._secret = secret
        self._on_lock = on_lock  # (what, who): "device"/"clerk", its id
        self._clock = clock
        self._tallies: dict[tuple[str, str], _Tally] = {}
        self._hashing = asyncio.Semaphore(1)

    async def verify(self, device: str, command: m.SignIn) -> str:
        """The signed-in clerk's staff number; raises Refused when not allowed or wrong."""
        keys = [("device", device)]
        if command.staff_no is not None:
            keys.append(("clerk", command.staff_no))
        tallies = [self._tallies.setdefault(key, _Tally()) for key in keys]
        now = self._clock()
        wait = max(t.wait_s(now) for t in tallies)
        if wait > 0 or any(t.busy for t in tallies):
            raise Refused(m.ErrorCode.TOO_MANY_ATTEMPTS,
                          f"too many sign-in attempts: try again in {max(wait, 1):.0f} s")
        for tally in tallies:
            tally.busy = True
        try:
            clerk = await self._check(command)
        finally:
            for tally in tallies:
                tally.busy = False
        if clerk is None:
            self._failed(keys, tallies)
            raise Refused(m.ErrorCode.BAD_CREDENTIALS, "staff card not recognised"
                          if command.card is not None else "staff number or PIN not recognised")
        return clerk.staff_no

    async def _check(self, command: m.SignIn) -> Clerk | None:
        if command.card is not None:
            return self._by_card.get(staff_card_hash(self._secret, command.card))
        clerk = self._by_number.get(command.staff_no or "")
        pin_hash = clerk.pin_hash if clerk is not None else _decoy_hash()
        async with self._hashing:
            ok = await asyncio.to_thread(check_pin, command.pin or "", pin_hash)
        return clerk if ok and clerk is not None else None

    def _failed(self, keys: list[tuple[str, str]], tallies: list[_Tally]) -> None:
        now = self._clock()
        for (what, who), tally in zip(keys, tallies, strict=True):
            tally.failures.append(now)
            if tally.recent(now) == LOCK_AFTER:
                self._on_lock(what, who)

