"""The web service's picture of the hall: a reader beside the single writer.

The engine here is a replica: the fold of the journal's committed events, read through a
read-only connection (hall/journal_reader.py), so it is exactly the controller's state and
never a second source of truth. The hall's MQTT messages say when to read on: every retained
snapshot and call goes out only after its events committed, so on each one the replica reads
the events it has not applied yet. Alerts, presence and device health come over MQTT as for
any device. The manager acts only by sending commands over MQTT from the web service's own
account (``execute``), naming the signed-in staff member for the journal. The city bridge's
flag (``city/H/bridge``) says whether the hall's summary reaches the city (web/upstream.py).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from hall.clock import Clock
from hall.engine.engine import HallEngine
from hall.engine.projection import Projection, project
from hall.history import History
from hall.journal_reader import JournalReader
from hallconfig import HallConfig
from protocol import messages as m
from protocol.link import BrokerSettings, Inbound, Link, LinkError
from protocol.topics import BRIDGE, CONTROLLER_ID, StateKind
from web.upstream import BridgeWatch

log = logging.getLogger(__name__)

PROJECTION_MAX_AGE_S = 2.0  # estimates move on with time even when nothing changes
COMMAND_TIMEOUT_S = 5.0
READ_EVERY_S = 1.0  # and on a timer: a change that altered no published state (a rating, a
# later day's booking) sends no message to read on
CACHE_FILE = "report-days.sqlite3"
Listener = Callable[[str, m.Message | None], None]


class HallUnreachable(Exception):
    """A command could not be carried to the controller, or it did not answer in time."""


class AlertMirror:
    """The manager's alert board as the controller last published it (state/alerts)."""

    def __init__(self) -> None:
        self.active: dict[tuple[m.AlertKind, str], m.Alert] = {}
        self.handled: set[tuple[m.AlertKind, str]] = set()

    def update(self, board: m.AlertsState) -> None:
        self.active = {(a.kind, a.subject): a for a in board.active}
        self.handled = {(k.kind, k.subject) for k in board.handled}


class HallView:
    """A replica of the hall for the web apps, kept current from the journal and MQTT."""

    def __init__(self, config: HallConfig, clock: Clock, secret: bytes, journal_path: Path,
                 broker: BrokerSettings, device: str, state_dir: Path) -> None:
        self.config = config
        self.state_dir = state_dir  # what this service may write: its report cache
        self.clock = clock
        self.journal_path = journal_path
        self.secret = secret  # status pages' tokens; staff bookings' keyed hash of an ID
        self.link = Link(broker, config.hall.id, device, m.Role.MANAGER)
        topics = self.link.topics
        self.link.follow = [topics.all_state, topics.all_events, topics.all_presence,
                            topics.all_health, topics.bridge]
        self.alerts = AlertMirror()
        self.upstream = BridgeWatch()  # the city bridge and the summaries it carried up
        self.online_on: dict[str, date] = {}  # the hall's day each device was last heard online
        self.listeners: list[Listener] = []
        self.engine = HallEngine(config, clock.now().date(), secret)
        self.reader: JournalReader
        self.history: History  # the reports: summaries of past days, cached in state_dir
        self._seq = 0  # the journal's last event folded into the replica
        self._applied = 0  # today's events folded in: the snapshots' ``rev``
        self._projection: Projection | None = None
        self._projected_at = 0.0
        self._pending: list[tuple[str, m.Message | None]] = []
        self._reading: asyncio.Task[None] | None = None
        self._keeping: asyncio.Task[int] | None = None
        self._polling: asyncio.Task[None] | None = None
        self._changed = asyncio.Condition()
        self._read_lock = asyncio.Lock()  # one read of the journal at a time

    async def start(self) -> None:
        """Open the journal read-only, fold today, then follow the hall over MQTT; raises
        JournalUnreadable or a LinkError (fatal: the caller exits)."""
        self.reader = JournalReader.open(self.journal_path)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.history = History(self.reader, self.state_dir / CACHE_FILE)
        await self._read_on()
        self._keeping = asyncio.create_task(self.history.keep_up(self.engine.tz),
                                            name="report-cache")  # past days, in the background
        self._polling = asyncio.create_task(self._read_regularly(), name="read-regularly")
        self.link.on_message(self._on_inbound)
        try:
            await self.link.start()
        except BaseException:
            for task in (self._keeping, self._polling):
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
            await self.link.close()
            self.history.close()
            self.reader.close()
            raise

    async def stop(self) -> None:
        for task in (self._reading, self._keeping, self._polling):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        await self.link.close()
        self.history.close()
        self.reader.close()

    # ------------------------------------------------------------ what the pages read
    @property
    def rev(self) -> int:
        """Today's committed events folded into the replica (compare a snapshot's rev)."""
        return self._applied

    @property
    def controller_online(self) -> bool:
        """The controller's presence, as the broker last told it."""
        presence = self.link.state.get(self.link.topics.presence(CONTROLLER_ID))
        return isinstance(presence, m.Presence) and presence.state == m.PresenceState.ONLINE

    @property
    def projection(self) -> Projection:
        """The engine's projection of today, recomputed after changes and as time passes."""
        age = time.monotonic() - self._projected_at
        if self._projection is None or age > PROJECTION_MAX_AGE_S:
            self._projection = project(self.engine, self.clock.now().timestamp())
            self._projected_at = time.monotonic()
        return self._projection

    async def settled(self, rev: int, timeout: float = 5.0,
                      also: Callable[[], bool] = lambda: True) -> None:
        """Wait until the replica holds at least ``rev`` of today's events and ``also`` holds
        (checked again after each message from the hall is taken in)."""
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: self._applied >= rev and also())

    # ------------------------------------------------------------ acting
    async def execute(self, name: str, command: m.Command, by: str | None = None) -> m.Reply:
        """Send a command to the controller from this service's account, on behalf of the
        staff member ``by``; HallUnreachable if it cannot be carried or answered."""
        if by is not None:
            command = command.model_copy(update={"by": by})
        try:
            reply = await self.link.request(name, command, timeout=COMMAND_TIMEOUT_S)
        except LinkError as exc:
            raise HallUnreachable(str(exc)) from exc
        if reply.ok and await self._read_on():  # committed before it was answered: shown now
            self._tell(self.link.topics.reply(self.link.device), reply)
        return reply

    # ------------------------------------------------------------ following
    def _on_inbound(self, inbound: Inbound) -> None:
        payload = inbound.payload
        if isinstance(payload, m.AlertsState):
            self.alerts.update(payload)
        elif inbound.topic.section == BRIDGE:
            self.upstream.flag(payload if isinstance(payload, m.BridgeFlag) else None,
                               inbound.retained, self.clock.now())
        elif isinstance(payload, m.HallSummary) \
                and str(inbound.topic) == self.link.topics.state(StateKind.SUMMARY):
            self.upstream.summary(payload)
        elif isinstance(payload, m.Presence) and payload.state == m.PresenceState.ONLINE:
            now = self.clock.now().timestamp()  # as it arrives: a page may render much later
            self.online_on[inbound.topic.kind] = self.engine.local(now).date()
        self._pending.append((str(inbound.topic), payload))
        if self._reading is None or self._reading.done():
            self._reading = asyncio.create_task(self._read_and_tell(), name="read-on")

    async def _read_and_tell(self) -> None:
        """Read the journal on, then tell the pages what arrived (one read for a burst)."""
        while self._pending:
            arrived, self._pending = self._pending, []
            try:
                await self._read_on()
            except Exception:
                log.exception("reading the journal on failed; trying again on the next change")
            for topic, message in arrived:
                self._tell(topic, message)

    async def _read_regularly(self) -> None:
        while True:
            await asyncio.sleep(READ_EVERY_S)
            try:
                if await self._read_on():
                    self._tell("", None)
            except Exception:
                log.exception("reading the journal on failed; trying again")

    def _tell(self, topic: str, message: m.Message | None) -> None:
        for listener in self.listeners:
            listener(topic, message)

    async def _read_on(self) -> int:
        """Fold the events committed since the last read (how many); a new business day
        starts a new replica (the controller's day, as its snapshots say, or the hall's
        clock)."""
        async with self._read_lock:
            return await self._fold_new()

    async def _fold_new(self) -> int:
        day = max(self._announced_day() or self.engine.day, self.clock.now().date())
        if day != self.engine.day:
            self.engine = HallEngine(self.config, day, self.secret)
            self._applied = 0
        events = await self.reader.events_of(self.engine.day, after=self._seq)
        for seq, event in events:
            self.engine.apply(event)
            self._seq = seq
        if events:
            self._applied += len(events)
            self._projection = None
        async with self._changed:
            self._changed.notify_all()
        return len(events)

    def _announced_day(self) -> date | None:
        hall = self.link.state.get(self.link.topics.state(StateKind.HALL))
        return date.fromisoformat(hall.date) if isinstance(hall, m.HallState) else None
