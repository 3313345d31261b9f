"""The upstream notification hook: a resident told by SMS or a WeChat service account message
when three or fewer are ahead and when called, without an app.

The web service sees every ticket's progress, so it decides *when*; *how* belongs to the city
tier, which implements ``Notifier``. A ``Notice`` carries the ticket's status token, never a
phone number or an OpenID: the city tier maps the token (which the resident's phone got from
the ticket's QR code when they subscribed there) to their subscription. The hall keeps no
contact address.

``NoticeWatch`` follows the view and sends each ticket each notice at most once, even across
a restart of the web service: what was sent is kept by (day, ticket, event) in the state
directory before the notifier is asked. ``RecordingNotifier`` is the local stub (``[web]
notifier = "record"``): it records what would be sent, one JSON line each.
"""

from __future__ import annotations

import asyncio
import heapq
import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

from protocol.messages import TicketStatus
from web.status import Ranks

if TYPE_CHECKING:
    from hall.engine.model import Ticket
    from web.hallview import HallView

log = logging.getLogger(__name__)

NEAR = 3  # "three ahead": told once this many or fewer are ahead
Event = Literal["three_ahead", "called"]
SENT_FILE = "notices-sent.jsonl"  # the ledger: (day, ticket, event) already sent
RECORD_FILE = "notices.jsonl"  # the stub's record of what would have been sent


@dataclass(frozen=True, slots=True)
class Notice:
    """One message to one resident's subscription, if they have one; nothing personal."""

    hall: str
    day: str  # YYYY-MM-DD
    ticket: str  # the ticket id
    number: str  # as printed, e.g. A012
    token: str  # the status page's token: the city tier's key to the subscription
    event: Event
    ahead: int | None  # three_ahead: how many are ahead
    window: str | None  # called: the counter's id
    window_name: str | None  # called: its name, e.g. 3号窗口


class Notifier(Protocol):
    """What the city tier implements (an SMS gateway, a WeChat service account)."""

    async def send(self, notice: Notice) -> None:
        """Deliver ``notice``; raise to have it logged (it is not tried again)."""


class RecordingNotifier:
    """The local stub: appends each notice to a JSONL file and keeps them in ``sent``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sent: list[Notice] = []

    async def send(self, notice: Notice) -> None:
        self.sent.append(notice)
        line = json.dumps(asdict(notice), ensure_ascii=False) + "\n"
        await asyncio.to_thread(_append, self.path, line)


def _append(path: Path, line: str) -> None:
    with path.open("a", encoding="utf-8") as out:
        out.write(line)


def make_notifier(kind: str, state_dir: Path) -> Notifier | None:
    """The notifier ``[web] notifier`` names (None: "none")."""
    return RecordingNotifier(state_dir / RECORD_FILE) if kind == "record" else None


class Ledger:
    """The notices sent, by (day, ticket, event), kept in a JSONL file that survives restarts."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sent: set[tuple[str, str, str]] = set()
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                try:
                    row = json.loads(line)
                    self.sent.add((row["day"], row["ticket"], row["event"]))
                except (ValueError, KeyError, TypeError):
                    log.warning("%s: skipping a malformed line", path)

    def __contains__(self, key: tuple[str, str, str]) -> bool:
        return key in self.sent

    def add(self, key: tuple[str, str, str]) -> None:
        """Keep ``key`` as sent (written before the notifier is asked: at most once)."""
        self.sent.add(key)
        day, ticket, event = key
        _append(self.path, json.dumps({"day": day, "ticket": ticket, "event": event}) + "\n")


class NoticeWatch:
    """Follows the view; on each change, sends the notices that came due, in order."""

    def __init__(self, view: HallView, notifier: Notifier) -> None:
        self.view = view
        self.notifier = notifier
        self.ledger = Ledger(view.state_dir / SENT_FILE)
        self._ranks = Ranks()
        self._version = 0
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.view.listeners.append(self._notice)
        self._task = asyncio.create_task(self._run(), name="notices")

    async def stop(self) -> None:
        if self._notice in self.view.listeners:
            self.view.listeners.remove(self._notice)
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def _notice(self, _topic: str, _message: object) -> None:
        self._version += 1
        self._wake.set()

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self.send_due()
            except Exception:
                log.exception("working out the residents' notices failed; trying on the "
                              "next change")

    async def send_due(self) -> None:
        """Send every notice due now and not sent before."""
        for notice in self.due():
            key = (notice.day, notice.ticket, notice.event)
            if key in self.ledger:
                continue
            self.ledger.add(key)
            try:
                await self.notifier.send(notice)
            except Exception:
                log.exception("notice %s for %s not sent", notice.event, notice.number)

    def due(self) -> list[Notice]:
        """Called tickets, then tickets with NEAR or fewer ahead (a called ticket's
        three_ahead, if never sent, is moot and not sent)."""
        engine, projection = self.view.engine, self.view.projection
        notices = []
        for desk in engine.desks.values():
            ticket = desk.ticket
            if ticket is not None and ticket.status is TicketStatus.CALLED:
                self.ledger_skip(ticket)
                notices.append(self._notice_for(ticket, "called", None, desk.counter_id,
                                                desk.name))
        starts = projection.starts
        for queue in engine.queues.values():
            first = heapq.nsmallest(NEAR + 1, queue.tickets(), key=lambda t: (
                starts.get(t.ticket_id, float("inf")), t.seq))
            for ticket in first:
                if ticket.status is not TicketStatus.WAITING:
                    continue
                ahead = self._ranks.ahead(engine, projection, self._version, ticket)
                if ahead <= NEAR:
                    notices.append(self._notice_for(ticket, "three_ahead", ahead))
        return notices

    def ledger_skip(self, ticket: Ticket) -> None:
        """A ticket called before it was ever near: its three_ahead is never to be sent."""
        key = (self.view.engine.day.isoformat(), ticket.ticket_id, "three_ahead")
        if key not in self.ledger:
            self.ledger.add(key)

    def _notice_for(self, ticket: Ticket, event: Event, ahead: int | None,
                    window: str | None = None, window_name: str | None = None) -> Notice:
        engine = self.view.engine
        return Notice(engine.config.hall.id, engine.day.isoformat(), ticket.ticket_id,
                      ticket.number, engine.token_for(ticket.ticket_id), event, ahead,
                      window, window_name)
