"""The hall's link to the city as the manager's tablet shows it: the city bridge's state, from
the flag Mosquitto keeps on the hall's broker (``city/H/bridge``: "1" connected, "0" not),
since when, and which of the controller's summaries the bridge carried up.

The flag carries no time, so "since" is when this service saw it change; a flag that was
already so when first seen (a retained one, at start or after a reconnection) is "since then
at the latest". The bridge forwards the summary topic at QoS 1 with a persistent session: a
summary published while it is up goes up at once, one published while it is down waits on the
hall's broker and goes up when it reconnects.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from protocol import messages as m


@dataclass
class BridgeWatch:
    """What the tablet says of the upstream link, kept from the flag and the summaries."""

    connected: bool | None = None  # None: no flag seen (no bridge, or never connected)
    since: datetime | None = None
    at_latest: bool = False  # the state held already when first seen: ``since`` at the latest
    latest: m.HallSummary | None = None  # the controller's last summary
    sent: m.HallSummary | None = None  # the last one the bridge carried up

    def flag(self, flag: m.BridgeFlag | None, retained: bool, now: datetime) -> None:
        """The bridge's flag as it arrived (None: cleared from the broker)."""
        connected = None if flag is None else flag.connected
        if connected != self.connected:
            self.connected, self.since, self.at_latest = connected, now, retained
        if connected:
            self.sent = self.latest or self.sent  # what waited went up on connecting

    def summary(self, summary: m.HallSummary) -> None:
        """A summary the controller published."""
        self.latest = summary
        if self.connected:
            self.sent = summary

    def as_json(self) -> dict[str, Any]:
        state = {None: "never", True: "connected", False: "disconnected"}[self.connected]
        return {"bridge": state, "since": _iso(self.since), "since_at_latest": self.at_latest,
                "summary_at": _iso(self.latest.at if self.latest else None),
                "sent_at": _iso(self.sent.at if self.sent else None),
                "waiting": self.latest is not None and self.latest != self.sent}


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat()
