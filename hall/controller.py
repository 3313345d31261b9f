"""The hall controller: the single writer. Commands arrive over MQTT (or in-process through
``execute``, for tools and tests), run one at a time against the engine, are committed to the
journal, and only then answered; retained state, call events and the alert board follow.
Nothing else runs in its process: the web service (web/) is a reader that follows the hall
over MQTT and reads the journal read-only.

The engine's state is always the fold of the journal's committed events: a command runs on
the engine, and its events and reply are committed before anything is answered or
published. If the commit fails, the engine is rebuilt from the committed events (kept in
memory, compact: hall/committed.py), so it is exactly as it was, and the sender hears
``storage_unavailable``. A retried command's reply is looked up in the journal. Nothing
a device sends can stop the command worker: every failure of one command becomes that
command's error reply, and the watchdog is fed only while the worker makes progress.

The projection (the waits) is brought up to date after a reply has gone, not before the
next command: a cheap one right away, a costly one (thousands waiting) in the background,
within ~1% of the loop. While it costs under 2 ms, a command always runs on a projection
that includes every change before it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path

from hall.alerts import AlertBoard
from hall.clock import Clock
from hall.commands import HANDLERS, Context
from hall.committed import CommittedEvents
from hall.engine.engine import HallEngine, Refused
from hall.engine.events import (
    AlertFollowedUp,
    CounterEvent,
    Event,
    HelpRequested,
    Kind,
    Rated,
    Row,
    TicketCalled,
    TicketEvent,
    TicketRecalled,
    TicketTransferred,
    to_row,
)
from hall.engine.projection import Projection, project
from hall.intake import IN_PROCESS, Request, check, error, internal
from hall.journal import (
    CommandRecord,
    DuplicateCommand,
    Journal,
    StorageUnavailable,
    backup_dir,
    stored_day,
)
from hall.refusals import RefusalLog
from hall.replies import ReplyBook, answer_to_retry, record
from hall.signin import SignInGuard
from hall.snapshots import (
    call_event,
    counter_state,
    hall_state,
    recent_calls,
    service_state,
    summary,
)
from hall.wording import Wording
from hallconfig import Device, HallConfig
from protocol import messages as m
from protocol.link import BrokerSettings, Inbound, Link
from protocol.topics import CONTROLLER_ID, EventKind, StateKind

log = logging.getLogger(__name__)

PROJECTION_INTERVAL_S = 0.1
PROJECTION_DUTY = 100  # wait this many times the projection's own cost before the next
SYNC_PROJECTION_S = 0.002  # below this cost, a command never sees a stale projection
TICK_INTERVAL_S = 1.0
SUMMARY_REFRESH_S = 60.0  # the upstream summary goes out at least this often (its ``at``
# tells neighbouring halls' kiosks it is current even when no figure changed)
SESSION_EXPIRY_S = 3600
STALLED_S = 10.0  # a worker with work waiting and no progress this long is unhealthy
BACKUP_EVERY_S = 3600.0
CLOSE_COPY = "-close"  # the name's end of a day-close backup (kept longer than the hourly)
PRESENCE_EVERY_S = 10.0  # the retained 'online' again, live: a display goes live on it
EXPIRY_MARGIN_S = 0.25  # a command's deadline: its remaining expiry (whole seconds) less this
_COUNTER_WIDE = {Kind.COUNTER_SERVICES, Kind.DAY_ENDED, Kind.CLERK_SIGNED_IN}
_HALL_WIDE = {Kind.NOTICE_SET, Kind.COUNTER_SERVICES, Kind.DAY_ENDED}


class Controller:
    """Owns the engine, the journal and the controller's MQTT link."""

    def __init__(self, config: HallConfig, clock: Clock, secret: bytes,
                 journal_path: str | Path, broker: BrokerSettings | None = None) -> None:
        self.config = config
        self.clock = clock
        self.secret = secret
        self.journal_path = Path(journal_path)
        # A persistent session: commands sent during a restart wait at the broker. Its
        # 'online' goes out after every snapshot (_on_connection): clients go live on it.
        self.link = Link(broker or config.broker, config.hall.id, CONTROLLER_ID,
                         m.Role.CONTROLLER, session_expiry=SESSION_EXPIRY_S, announce=False)
        topics = self.link.topics
        self.link.follow = [topics.all_commands, topics.all_presence, topics.all_health]
        self.alerts = AlertBoard(wording=Wording(config))
        self.replies = ReplyBook()
        self.refusals = RefusalLog()
        self.sign_ins = SignInGuard(config.clerks, secret, self._sign_in_locked)
        self.engine: HallEngine
        self._committed = CommittedEvents()  # the committed events the engine is the fold of
        self._today = 0  # those stored under today's day: the snapshots' rev
        self._storage_failure: str | None = None
        self._progress = time.monotonic()
        self._backed_up = time.monotonic()
        self._presence_sent = time.monotonic()
        self._backup: asyncio.Task[None] | None = None
        self._checks: set[asyncio.Task[None]] = set()  # sign-ins being verified
        self._checking: set[tuple[str, str]] = set()  # their (device, command id)
        self.projection: Projection
        self.journal: Journal
        self._queue: asyncio.Queue[Request | None] = asyncio.Queue()
        self._dirty = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._published: dict[str, m.Message] = {}
        self._summary_sent: datetime | None = None
        self._projection_cost = 0.0
        self._behind = False  # the projection lags the engine's committed changes
        self._unpublished: tuple[list[Event], datetime] | None = None  # a command's, until
        # its reply has gone

    # ------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        """Open and check the journal, rebuild the day, connect; raises JournalDamaged or
        a LinkError (fatal: the caller exits) having released what it opened."""
        self.journal = await Journal.open(self.journal_path)
        try:
            await self._erase_identities(self.clock.now())
            await self._load_day(self.clock.now())
            self.link.on_message(self._on_inbound)
            self.link.on_connection(self._on_connection)
            await self.link.start()
        except BaseException:
            await self.link.close()
            await self.journal.close()
            raise
        self._tasks = [asyncio.create_task(self._work(), name="commands"),
                       asyncio.create_task(self._refresh_projection(), name="projection"),
                       asyncio.create_task(self._tick(), name="ticker")]

    async def stop(self) -> None:
        tasks = [*self._tasks, *self._checks, *([self._backup] if self._backup else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.link.close()
        await self.journal.close()

    async def _load_day(self, now: datetime) -> None:
        """Rebuild the day's state from the journal (after a restart, or at midnight)."""
        day = now.date()
        self._committed = CommittedEvents()
        self.engine = HallEngine(self.config, day, self.secret)
        async for event, row in self.journal.each_event_of(day):
            self._committed.extend((row,))
            self.engine.apply(event)
        self._today = len(self._committed)
        later = await self.journal.bookings_after(day)
        self._committed.extend(to_row(event) for event in later)
        for event in later:
            self.engine.apply(event)
        self._reproject(now)
        self.alerts = AlertBoard(wording=self.alerts.wording)
        self.alerts.rebuild(self.engine, now)
        log.info("day %s loaded: %d events, %d tickets", day, len(self._committed),
                 len(self.engine.tickets))

    def _fold(self, day: date) -> HallEngine:
        """A fresh engine holding exactly the committed events."""
        engine = HallEngine(self.config, day, self.secret)
        for event in self._committed:
            engine.apply(event)
        return engine

    def _restore(self) -> None:
        """Forget what an uncommitted command did: back to the fold of the journal."""
        self.engine.take_events()
        self.engine = self._fold(self.engine.day)
        self._reproject(self.clock.now())
        self._dirty.set()

    # ------------------------------------------------------------ inbound
    def _on_inbound(self, inbound: Inbound) -> None:
        topic, now = inbound.topic, self.clock.now()
        if topic.section == "cmd":
            deadline = None if inbound.expiry is None else (
                time.monotonic() + inbound.expiry - EXPIRY_MARGIN_S)
            self._submit(Request(topic.kind, topic.ident, inbound.raw, inbound.correlation,
                                  inbound.response_topic, deadline))
        elif topic.section == "presence" and topic.kind != CONTROLLER_ID:
            presence = inbound.payload if isinstance(inbound.payload, m.Presence) else None
            self.alerts.presence(topic.kind, presence, now)  # alerts after a grace (tick)
        elif topic.section == "health":
            health = inbound.payload if isinstance(inbound.payload, m.DeviceHealth) else None
            self._announce(self.alerts.health(topic.kind, health, now))

    def _on_connection(self, up: bool) -> None:
        if up:
            self._published.clear()
            self.publish_all()
            self.republish_presence()

    async def execute(self, name: str, command: m.Command,
                      device: str = IN_PROCESS.id) -> m.Reply:
        """Run a command in-process (tools, tests), through the same single writer."""
        answer: asyncio.Future[m.Reply] = asyncio.get_running_loop().create_future()
        self._submit(Request(device, name, m.encode(command), answer=answer))
        return await answer

    def _submit(self, request: Request) -> None:
        """Queue a request for the writer; a sign-in has its credentials checked first."""
        if request.name == "sign_in":
            task = asyncio.create_task(self._verify_sign_in(request))
            self._checks.add(task)
            task.add_done_callback(self._checks.discard)
        else:
            self._queue.put_nowait(request)

    async def _verify_sign_in(self, request: Request) -> None:
        """Check a clerk's PIN or card off the writer, within the attempt limits; a retry of
        a sign-in still being checked is dropped (the first one's reply answers it)."""
        key = (request.device, m.command_id_of(request.raw))
        if request.answer is None and key[1] and key in self._checking:
            return
        self._checking.add(key)
        try:
            checked = check(request, request.sender(self.config), self.link.topics)
            if isinstance(checked, m.Command) and await self._stored(
                    request.device, checked.id) is None:
                assert isinstance(checked, m.SignIn)
                clerk = await self.sign_ins.verify(request.device, checked)
                request = replace(request, clerk=clerk)
            self._queue.put_nowait(request)
        except Refused as refused:
            cid = m.command_id_of(request.raw)
            self.refusals.note(request.device, request.name, refused.code, str(refused))
            self._answer(request, error(cid, refused.code, str(refused)))
        except Exception:
            log.exception("sign-in check from %s failed", request.device)
            self._answer(request, internal(request))
        finally:
            self._checking.discard(key)

    async def _stored(self, device: str, command_id: str) -> CommandRecord | None:
        """The reply given to a device's command before: journaled (any day) or kept."""
        stored = await self.journal.reply_for(device, command_id)
        return stored if stored is not None else self.replies.find(device, command_id)

    def _sign_in_locked(self, what: str, who: str) -> None:
        self._announce(self.alerts.raise_(
            m.AlertKind.SIGN_IN_LOCKED, who, self.alerts.wording.sign_in_locked(what, who),
            self.clock.now()))

    # ------------------------------------------------------------ the single writer
    async def _work(self) -> None:
        """Take requests one at a time, for ever: no request can end this loop."""
        while True:
            request = await self._queue.get()
            self._progress = time.monotonic()
            if request is None:
                await self._tick_safely()
            else:
                try:
                    reply = await self._handle(request)
                except Exception:  # a bug must not stop the hall; the sender gets an error
                    log.exception("command %s from %s failed", request.name, request.device)
                    reply = internal(request)
                self._answer(request, reply)
                self._publish_changes()
            self._catch_up()
            self._progress = time.monotonic()

    def healthy(self) -> bool:
        """The worker is alive and either idle or making progress (feeds the watchdog)."""
        worker = self._tasks[0] if self._tasks else None
        if worker is None or worker.done():
            return False
        return self._queue.empty() or time.monotonic() - self._progress < STALLED_S

    async def _handle(self, request: Request) -> m.Reply:
        now = self.clock.now()
        if now.date() != self.engine.day:
            await self._roll_over(now)
        device = request.sender(self.config)
        checked = check(request, device, self.link.topics)
        if isinstance(checked, m.Reply):
            return self._refused(request, checked)
        assert device is not None
        stored = await self._stored(device.id, checked.id)
        if stored is not None:
            return answer_to_retry(stored, request.name, checked)
        if (request.deadline is not None and time.monotonic() > request.deadline) or (
                checked.deadline is not None and time.time() > checked.deadline):
            return self._refused(request, error(
                checked.id, m.ErrorCode.EXPIRED, "arrived after its sender's deadline: not "
                "carried out"))
        return await self._run(request, device, checked, now)

    async def _run(self, request: Request, device: Device, command: m.Command,
                   now: datetime) -> m.Reply:
        """Run a command on the engine, commit what it did, and only then apply it."""
        if self._behind and self._projection_cost < SYNC_PROJECTION_S:
            self._reproject(now)
        ctx = Context(self.engine, device, now, self.projection, request.clerk)
        try:
            result = HANDLERS[request.name](ctx, command).model_dump(mode="json")
            reply = m.Reply(id=command.id, ok=True, result=result)
        except Refused as refused:
            reply = error(command.id, refused.code, str(refused))
        except BaseException:
            self._restore()
            raise
        events = _signed(self.engine.take_events(), command.by)
        entry = record(device.id, request.name, command, reply)
        if events and not reply.ok:  # a refusal changes nothing, even half-way through
            self._restore()
            events = []
        if not events:
            self.replies.keep(entry)
            return reply if reply.ok else self._refused(request, reply)
        try:
            rows = await self.journal.commit(self.engine.day, now.timestamp(), events, entry)
        except DuplicateCommand:
            self._restore()
            stored = await self.journal.reply_for(device.id, command.id)
            return internal(request) if stored is None else answer_to_retry(
                stored, request.name, command)
        except StorageUnavailable as exc:
            self._restore()
            self._storage_failed(str(exc), now)
            return error(command.id, m.ErrorCode.STORAGE_UNAVAILABLE,
                          "the hall's journal cannot be written now; nothing was done: "
                          "try again shortly")
        self._extend(events, rows)
        self._storage_recovered(now)
        self._unpublished = (events, now)  # published as soon as the reply has gone
        return reply

    def _refused(self, request: Request, reply: m.Reply) -> m.Reply:
        error = reply.error
        if error is not None:
            self.refusals.note(request.device, request.name, error.code, error.message)
        return reply

    def _answer(self, request: Request, reply: m.Reply) -> None:
        """Send the reply; a reply that cannot be sent is logged, never raised."""
        try:
            if request.answer is not None:
                if not request.answer.done():
                    request.answer.set_result(reply)
                return
            self.link.publish(self.link.topics.reply(request.device),
                              reply.model_copy(update={"clock": time.time()}),
                              correlation=request.correlation)
            self.link.flush()  # on the wire now, not after the work that follows
        except Exception:
            log.exception("reply to %s from %s not sent", request.name, request.device)

    # ------------------------------------------------------------ storage
    def _storage_failed(self, reason: str, now: datetime) -> None:
        if self._storage_failure is None:
            log.error("journal not writable: %s; refusing changes until it is", reason)
        self._storage_failure = reason
        self._announce(self.alerts.raise_(
            m.AlertKind.STORAGE, "journal", self.alerts.wording.storage(reason), now))

    def _storage_recovered(self, now: datetime) -> None:
        if self._storage_failure is not None:
            log.warning("journal writable again")
            self._storage_failure = None
            self.alerts.clear(m.AlertKind.STORAGE, "journal")

    # ------------------------------------------------------------ after a change
    def _publish_changes(self) -> None:
        """What the last command changed, published just after its reply: the sender waits
        for nothing but the commit."""
        if self._unpublished is not None:
            events, now = self._unpublished
            self._unpublished = None
            self._after_safely(events, now)

    def _after_safely(self, events: list[Event], now: datetime) -> None:
        """Publish what committed events changed; a failure here is logged, as the change
        itself is already durable (and a command's answered)."""
        try:
            self._after(events, now)
            self.link.flush()  # calls and state on the wire before the projection catches up
        except Exception:
            log.exception("publishing after %d events failed", len(events))
        self._behind = True  # the projection catches up after the reply
        self._dirty.set()

    def _after(self, events: list[Event], now: datetime) -> None:
        counters: set[str] = set()
        hall_wide = counter_wide = False
        for event in events:
            hall_wide |= event.kind in _HALL_WIDE
            counter_wide |= event.kind in _COUNTER_WIDE
            counters.update(self._counters_of(event))
            data = event.data
            if isinstance(data, TicketCalled | TicketRecalled):
                self._publish_call(event)
            elif isinstance(data, AlertFollowedUp):
                self.alerts.followed_up(data.alert, data.subject)
            elif isinstance(data, HelpRequested):
                self._announce(self.alerts.help_requested(data.device, now))
            elif isinstance(data, Rated):
                self._announce(self.alerts.rating(data.counter, data.ticket, data.rating, now,
                                                  data.clerk))
        if hall_wide:
            self._publish(self.link.topics.state(StateKind.HALL), hall_state(self.engine, self.rev))
        for counter in self.engine.desks if counter_wide else counters:
            self._publish(self.link.topics.state(StateKind.COUNTER, counter),
                          counter_state(self.engine, self.engine.desks[counter], now,
                                        self.rev))
        self._publish_services(now)  # counts now; estimates follow from the next projection
        self._publish_alerts()

    def _counters_of(self, event: Event) -> Iterable[str]:
        data = event.data
        if isinstance(data, CounterEvent | TicketTransferred) and data.counter:
            yield data.counter
        ticket = self.engine.tickets.get(data.ticket) if isinstance(data, TicketEvent) else None
        if ticket is not None:
            yield from (d.counter_id for d in self.engine.desks.values()
                        if d.ticket is ticket or d.last_finished is ticket)

    def _publish_call(self, event: Event) -> None:
        seq, ticket, counter, recall, at = self.engine.calls[0]
        call = call_event(self.engine, seq, ticket, counter, recall, at)
        self.link.publish(self.link.topics.event(EventKind.CALL), call)
        self.link.flush()  # the displays announce it: ahead of the state that follows
        self._publish(self.link.topics.state(StateKind.CALLS), recent_calls(self.engine, self.rev))

    def _publish(self, topic: str, message: m.Message, force: bool = False) -> bool:
        """Publish retained state, skipping a snapshot equal to the last one but for time;
        True if it went out."""
        previous = self._published.get(topic)
        if not force and previous is not None and _same(previous, message):
            return False
        self._published[topic] = message
        self.link.publish(topic, message, retain=True)
        return True

    def _publish_alerts(self) -> None:
        """The manager's board, retained, whenever it changed (the web service shows it)."""
        board = m.AlertsState(
            date=self.engine.day.isoformat(),
            active=sorted(self.alerts.active.values(), key=lambda a: a.at, reverse=True),
            handled=[m.AlertKey(kind=k, subject=s) for k, s in sorted(self.alerts.handled)])
        self._publish(self.link.topics.state(StateKind.ALERTS), board)

    def _announce(self, alert: m.Alert | None) -> None:
        if alert is not None:
            log.warning("alert %s %s: %s", alert.kind, alert.subject, alert.message)
            self.link.publish(self.link.topics.event(EventKind.ALERT), alert)
            self._publish_alerts()

    def _extend(self, events: list[Event], rows: list[Row]) -> None:
        self._committed.extend(rows)
        today = self.engine.day.isoformat()
        self._today += sum(1 for e in events if stored_day(self.engine.day, e) == today)

    @property
    def rev(self) -> int:
        """How many events the journal holds under today's day, which every snapshot
        carries (hall/snapshots.py): it only ever grows through the day, restarts too."""
        return self._today

    def publish_all(self) -> None:
        """Every retained snapshot, as after a reconnect."""
        now = self.clock.now()
        topics = self.link.topics
        self._publish(topics.state(StateKind.HALL), hall_state(self.engine, self.rev), force=True)
        for desk in self.engine.desks.values():
            self._publish(topics.state(StateKind.COUNTER, desk.counter_id),
                          counter_state(self.engine, desk, now, self.rev), force=True)
        self._publish(topics.state(StateKind.CALLS), recent_calls(self.engine, self.rev),
                      force=True)
        self._publish_services(now, force=True)
        self._publish_alerts()

    def _publish_services(self, now: datetime, force: bool = False) -> None:
        topics = self.link.topics
        for service in self.engine.queues:
            self._publish(topics.state(StateKind.SERVICE, service),
                          service_state(self.engine, service, self.projection, now,
                                        self.rev), force)
        stale = self._summary_sent is None or (
            now - self._summary_sent).total_seconds() >= SUMMARY_REFRESH_S
        if self._publish(topics.state(StateKind.SUMMARY),
                         summary(self.engine, self.projection, now, self.rev),
                         force or stale):
            self._summary_sent = now

    # ------------------------------------------------------------ background
    async def _refresh_projection(self) -> None:
        """Re-project after changes, off the command path, spending at most ~1% of the loop."""
        while True:
            await self._dirty.wait()
            self._dirty.clear()
            now = self.clock.now()
            self._reproject(now)
            self._publish_services(now)
            await asyncio.sleep(max(PROJECTION_INTERVAL_S, PROJECTION_DUTY * self._projection_cost))

    def _reproject(self, now: datetime) -> None:
        began = time.perf_counter()
        self.projection = project(self.engine, now.timestamp())
        self._projection_cost = time.perf_counter() - began
        self._behind = False

    def _catch_up(self) -> None:
        """After a reply has gone: bring a cheap projection up to date with what the command
        changed, so the next command finds it current rather than paying for it first."""
        if self._behind and self._projection_cost < SYNC_PROJECTION_S:
            self._reproject(self.clock.now())

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(TICK_INTERVAL_S)
            await self._queue.put(None)  # ticks run on the single writer too

    async def _tick_safely(self) -> None:
        try:
            await self.tick(self.clock.now())
        except Exception:
            log.exception("tick failed")

    async def tick(self, now: datetime) -> None:
        """Time passes: day rollover, unprinted tickets voided, time-based alerts, backups;
        a journal that failed is probed until it takes writes again."""
        if now.date() != self.engine.day:
            await self._roll_over(now)
        events = await self._let_time_pass(now)
        if events:
            self._after_safely(events, now)
        elif self._storage_failure is not None and await self.journal.writable():
            self._storage_recovered(now)
        for alert in self.alerts.check_hall(self.engine, now):
            self._announce(alert)
        self._publish_alerts()  # clears too: a cause that ended, a device back
        if time.monotonic() - self._backed_up >= BACKUP_EVERY_S:
            self._start_backup(now)
        if time.monotonic() - self._presence_sent >= PRESENCE_EVERY_S:
            self.republish_presence()
        self._dirty.set()

    # ------------------------------------------------------------ presence
    def republish_presence(self) -> None:
        """Publish the retained 'online' (again). Clients take their picture as live only
        after hearing it live, never on the broker's saved copy (protocol/README.md)."""
        self._presence_sent = time.monotonic()
        if self.link.connected:
            self.link.publish(self.link.topics.presence(CONTROLLER_ID),
                              m.Presence(state=m.PresenceState.ONLINE, role=m.Role.CONTROLLER),
                              retain=True)

    async def _let_time_pass(self, now: datetime) -> list[Event]:
        """What the engine does as time passes (voids, the day's close), committed; undone,
        like any command's, when the commit fails."""
        self.engine.tick(now)
        events = self.engine.take_events()
        if not events:
            return []
        try:
            rows = await self.journal.commit(self.engine.day, now.timestamp(), events)
        except StorageUnavailable as exc:
            self._restore()
            self._storage_failed(str(exc), now)
            return []
        self._extend(events, rows)
        self._storage_recovered(now)
        return events

    async def _roll_over(self, now: datetime) -> None:
        """Close the old day (its close is stamped when it was due), back up, load the new."""
        await self._let_time_pass(now)
        log.info("new business day %s", now.date())
        await self._erase_identities(now)  # before the backup, which must hold none
        self._start_backup(now, closing=True)
        await self._load_day(now)
        self._published.clear()
        self.publish_all()

    # ------------------------------------------------------------ retention
    async def _erase_identities(self, now: datetime) -> None:
        """Erase the residents' hashes of the days before today (Journal.erase_identities);
        a failure is logged, and the next start or roll-over tries again."""
        try:
            await self.journal.erase_identities(now.date())
        except StorageUnavailable as exc:
            log.error("journal: the ID hashes of past days not erased: %s", exc)

    # ------------------------------------------------------------ backups
    def _start_backup(self, now: datetime, closing: bool = False) -> None:
        """An online copy of the journal beside it, off the writer (see Journal.backup):
        hourly, and at each day's close (``closing``: it follows one under way)."""
        running = self._backup if self._backup is not None and not self._backup.done() else None
        if running is not None and not closing:
            return
        self._backed_up = time.monotonic()
        self._backup = asyncio.create_task(self._back_up(now, closing, running), name="backup")

    async def _back_up(self, now: datetime, closing: bool,
                       after: asyncio.Task[None] | None) -> None:
        """Each copy is the whole journal (a year of a busy hall: about 2 GB), so the hourly
        ones are kept a day and the day-close ones ``backup_keep_days``."""
        if after is not None:
            await asyncio.gather(after, return_exceptions=True)
        folder = backup_dir(self.journal_path)
        kind = CLOSE_COPY if closing else ""
        target = folder / f"{self.journal_path.stem}-{now:%Y%m%d-%H%M}{kind}.sqlite3"
        try:
            await self.journal.backup(target)
        except Exception:
            log.exception("journal backup to %s failed", target)
            return
        for old in folder.glob(f"{self.journal_path.stem}-*.sqlite3"):
            days = self.config.backup_keep_days if old.stem.endswith(CLOSE_COPY) else 1
            if datetime.fromtimestamp(old.stat().st_mtime, now.tzinfo) < now - timedelta(days):
                old.unlink(missing_ok=True)
        log.info("journal backed up to %s", target)


def _signed(events: list[Event], by: str | None) -> list[Event]:
    """A manager's events name the staff member who acted, for the journal."""
    if by is None:
        return events
    return [event._replace(data=event.data.model_copy(update={"by": by})) for event in events]


def _same(a: m.Message, b: m.Message) -> bool:
    """Equal but for time and rev: an unchanged snapshot keeps the rev it went out with."""
    same_but = {"updated", "at", "rev"}
    return a.model_dump(exclude=same_but) == b.model_dump(exclude=same_but)

