"""The hall controller: the single writer. Commands arrive over MQTT (or from the web app
in-process), run one at a time against the engine, are committed to the journal, and only
then answered; retained state and call events follow."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from hall.alerts import AlertBoard
from hall.clock import Clock
from hall.commands import HANDLERS, Context
from hall.config import Device, HallConfig
from hall.engine.engine import HallEngine, Refused
from hall.engine.events import Event, Kind
from hall.engine.projection import Projection, project
from hall.journal import CommandRecord, Journal
from hall.snapshots import (
    call_event,
    counter_state,
    hall_state,
    recent_calls,
    service_state,
    summary,
)
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
_COUNTER_WIDE = {Kind.COUNTER_SERVICES, Kind.DAY_ENDED, Kind.CLERK_SIGNED_IN}
_HALL_WIDE = {Kind.NOTICE_SET, Kind.COUNTER_SERVICES, Kind.DAY_ENDED}
IN_PROCESS = Device(id="manager", role=m.Role.MANAGER)


@dataclass(frozen=True, slots=True)
class _Request:
    device: str
    name: str
    raw: bytes
    correlation: bytes | None
    answer: asyncio.Future[m.Reply] | None = None


class Controller:
    """Owns the engine, the journal and the controller's MQTT link."""

    def __init__(self, config: HallConfig, clock: Clock, secret: bytes,
                 journal_path: str | Path, broker: BrokerSettings | None = None) -> None:
        self.config = config
        self.clock = clock
        self.secret = secret
        self.journal_path = Path(journal_path)
        # A persistent session: commands sent during a restart wait at the broker.
        self.link = Link(broker or config.broker, config.hall.id, CONTROLLER_ID,
                         m.Role.CONTROLLER, session_expiry=SESSION_EXPIRY_S)
        topics = self.link.topics
        self.link.follow = [topics.all_commands, topics.all_presence, topics.all_health]
        self.alerts = AlertBoard()
        self.replies: dict[str, str] = {}
        self.engine: HallEngine
        self.projection: Projection
        self.journal: Journal
        self._queue: asyncio.Queue[_Request | None] = asyncio.Queue()
        self._dirty = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._published: dict[str, m.Message] = {}
        self._summary_sent: datetime | None = None
        self._projection_cost = 0.0
        self.listeners: list[Any] = []  # in-process observers (the web app): f(topic, message)

    # ------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        self.journal = await Journal.open(self.journal_path)
        await self._load_day(self.clock.now())
        self.link.on_message(self._on_inbound)
        self.link.on_connection(self._on_connection)
        await self.link.start()
        self._tasks = [asyncio.create_task(self._work(), name="commands"),
                       asyncio.create_task(self._refresh_projection(), name="projection"),
                       asyncio.create_task(self._tick(), name="ticker")]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.link.close()
        await self.journal.close()

    async def _load_day(self, now: datetime) -> None:
        """Rebuild the day's state from the journal (after a restart, or at midnight)."""
        day = now.date()
        self.engine = HallEngine(self.config, day, self.secret)
        events = await self.journal.events_of(day)
        for event in events:
            self.engine.apply(event)
        self.replies = await self.journal.replies_of(day)
        self._reproject(now)
        self.alerts = AlertBoard()
        self.alerts.rebuild(self.engine, now)
        log.info("day %s loaded: %d events, %d tickets", day, len(events),
                 len(self.engine.tickets))

    # ------------------------------------------------------------ inbound
    def _on_inbound(self, inbound: Inbound) -> None:
        topic, now = inbound.topic, self.clock.now()
        if topic.section == "cmd":
            self._queue.put_nowait(_Request(topic.kind, topic.ident, inbound.raw,
                                            inbound.correlation))
        elif topic.section == "presence" and topic.kind != CONTROLLER_ID:
            presence = inbound.payload if isinstance(inbound.payload, m.Presence) else None
            self._announce(self.alerts.presence(topic.kind, presence, now))
        elif topic.section == "health":
            health = inbound.payload if isinstance(inbound.payload, m.DeviceHealth) else None
            self._announce(self.alerts.health(topic.kind, health, now))

    def _on_connection(self, up: bool) -> None:
        if up:
            self._published.clear()
            self.publish_all()

    async def execute(self, name: str, command: m.Command,
                      device: str = IN_PROCESS.id) -> m.Reply:
        """Run a command in-process (the web app), through the same single writer."""
        answer: asyncio.Future[m.Reply] = asyncio.get_running_loop().create_future()
        await self._queue.put(_Request(device, name, m.encode(command), None, answer))
        return await answer

    # ------------------------------------------------------------ the single writer
    async def _work(self) -> None:
        while True:
            request = await self._queue.get()
            if request is None:
                await self._tick_safely()
                continue
            try:
                reply = await self._handle(request)
            except Exception:  # a bug must not stop the hall; the sender gets an error
                log.exception("command %s from %s failed", request.name, request.device)
                reply = m.Reply(id=_command_id(request.raw), ok=False, error=m.ErrorInfo(
                    code=m.ErrorCode.INTERNAL, message="internal error; see the controller log"))
            self._answer(request, reply)

    async def _handle(self, request: _Request) -> m.Reply:
        now = self.clock.now()
        if now.date() != self.engine.day:
            await self._roll_over(now)
        device = self.config.device(request.device) or (
            IN_PROCESS if request.answer is not None else None)
        checked = self._check(request, device)
        if isinstance(checked, m.Reply):
            log.warning("refused %s from %s: %s", request.name, request.device,
                        checked.error.message if checked.error else "")
            return checked
        assert device is not None
        stored = self.replies.get(checked.id)
        if stored is not None:
            return m.Reply.model_validate_json(stored)
        if self._dirty.is_set() and self._projection_cost < SYNC_PROJECTION_S:
            self._reproject(now)
        ctx = Context(self.engine, device, now, self.projection)
        try:
            reply = m.Reply(id=checked.id, ok=True, result=HANDLERS[request.name](ctx, checked))
        except Refused as refused:
            reply = _error(checked.id, refused.code, str(refused))
        events = self.engine.take_events()
        reply_json = m.encode(reply).decode()
        await self.journal.commit(self.engine.day, now.timestamp(), events,
                                  CommandRecord(checked.id, device.id, request.name, reply_json))
        self.replies[checked.id] = reply_json
        self._after(events, now)
        return reply

    def _check(self, request: _Request, device: Device | None) -> m.Command | m.Reply:
        """Decode and authorise a request, or the error reply that explains why not."""
        cid = _command_id(request.raw)
        if device is None:
            return _error(cid, m.ErrorCode.UNKNOWN_DEVICE, f"unknown device {request.device!r}")
        model = m.COMMANDS.get(request.name)
        if model is None:
            return _error(cid, m.ErrorCode.UNKNOWN_COMMAND, f"unknown command {request.name!r}")
        if request.name not in m.ALLOWED[m.Role(device.role)]:
            return _error(cid, m.ErrorCode.FORBIDDEN,
                          f"a {device.role} may not send {request.name}")
        try:
            return m.decode(model, request.raw)
        except m.PayloadError as exc:
            return _error(cid, exc.code, str(exc))

    def _answer(self, request: _Request, reply: m.Reply) -> None:
        if request.answer is not None:
            if not request.answer.done():
                request.answer.set_result(reply)
            return
        self.link.publish(self.link.topics.reply(request.device), reply,
                          correlation=request.correlation)

    # ------------------------------------------------------------ after a change
    def _after(self, events: list[Event], now: datetime) -> None:
        if not events:
            return
        counters: set[str] = set()
        hall_wide = counter_wide = False
        for event in events:
            hall_wide |= event.kind in _HALL_WIDE
            counter_wide |= event.kind in _COUNTER_WIDE
            counters.update(self._counters_of(event))
            if event.kind in (Kind.TICKET_CALLED, Kind.TICKET_RECALLED):
                self._publish_call(event)
            elif event.kind is Kind.ALERT_FOLLOWED_UP:
                self.alerts.followed_up(m.AlertKind(event.data["alert"]), event.data["subject"])
                self._notify(self.link.topics.event(EventKind.ALERT), None)
            elif event.kind is Kind.HELP_REQUESTED:
                self._announce(self.alerts.help_requested(event.data["device"], now))
            elif event.kind is Kind.RATED:
                d = event.data
                self._announce(self.alerts.rating(d["counter"], d["ticket"], d["rating"], now))
        if hall_wide:
            self._publish(self.link.topics.state(StateKind.HALL), hall_state(self.engine))
        for counter in self.engine.desks if counter_wide else counters:
            self._publish(self.link.topics.state(StateKind.COUNTER, counter),
                          counter_state(self.engine, self.engine.desks[counter], now))
        self._publish_services(now)  # counts now; estimates follow from the next projection
        self._dirty.set()

    def _counters_of(self, event: Event) -> Iterable[str]:
        if event.data.get("counter"):
            yield event.data["counter"]
        ticket = self.engine.tickets.get(event.data.get("ticket", ""))
        if ticket is not None:
            yield from (d.counter_id for d in self.engine.desks.values()
                        if d.ticket is ticket or d.last_finished is ticket)

    def _publish_call(self, event: Event) -> None:
        seq, ticket, counter, recall, at = self.engine.calls[0]
        call = call_event(self.engine, seq, ticket, counter, recall, at)
        self.link.publish(self.link.topics.event(EventKind.CALL), call)
        self._notify(self.link.topics.event(EventKind.CALL), call)
        self._publish(self.link.topics.state(StateKind.CALLS), recent_calls(self.engine))

    def _publish(self, topic: str, message: m.Message, force: bool = False) -> bool:
        """Publish retained state, skipping a snapshot equal to the last one but for time;
        True if it went out."""
        previous = self._published.get(topic)
        if not force and previous is not None and _same(previous, message):
            return False
        self._published[topic] = message
        self.link.publish(topic, message, retain=True)
        self._notify(topic, message)
        return True

    def _notify(self, topic: str, message: m.Message | None) -> None:
        """Tell in-process listeners (the web app); None: something changed off the wire."""
        for listener in self.listeners:
            listener(topic, message)

    def _announce(self, alert: m.Alert | None) -> None:
        if alert is not None:
            log.warning("alert %s %s: %s", alert.kind, alert.subject, alert.message)
            self.link.publish(self.link.topics.event(EventKind.ALERT), alert)
            self._notify(self.link.topics.event(EventKind.ALERT), alert)

    def publish_all(self) -> None:
        """Every retained snapshot, as after a reconnect."""
        now = self.clock.now()
        topics = self.link.topics
        self._publish(topics.state(StateKind.HALL), hall_state(self.engine), force=True)
        for desk in self.engine.desks.values():
            self._publish(topics.state(StateKind.COUNTER, desk.counter_id),
                          counter_state(self.engine, desk, now), force=True)
        self._publish(topics.state(StateKind.CALLS), recent_calls(self.engine), force=True)
        self._publish_services(now, force=True)

    def _publish_services(self, now: datetime, force: bool = False) -> None:
        topics = self.link.topics
        for service in self.engine.queues:
            self._publish(topics.state(StateKind.SERVICE, service),
                          service_state(self.engine, service, self.projection, now), force)
        stale = self._summary_sent is None or (
            now - self._summary_sent).total_seconds() >= SUMMARY_REFRESH_S
        if self._publish(topics.state(StateKind.SUMMARY),
                         summary(self.engine, self.projection, now), force or stale):
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
        """Time passes: day rollover, unprinted tickets voided, time-based alerts."""
        if now.date() != self.engine.day:
            await self._roll_over(now)
        self.engine.tick(now)
        events = self.engine.take_events()
        await self.journal.commit(self.engine.day, now.timestamp(), events)
        self._after(events, now)
        for alert in self.alerts.check_hall(self.engine, now):
            self._announce(alert)
        self._dirty.set()

    async def _roll_over(self, now: datetime) -> None:
        log.info("new business day %s", now.date())
        await self._load_day(now)
        self._published.clear()
        self.publish_all()


def _same(a: m.Message, b: m.Message) -> bool:
    return a.model_dump(exclude={"updated", "at"}) == b.model_dump(exclude={"updated", "at"})


def _error(command_id: str, code: m.ErrorCode, message: str) -> m.Reply:
    return m.Reply(id=command_id, ok=False, error=m.ErrorInfo(code=code, message=message))


def _command_id(raw: bytes) -> str:
    """The command id of a payload, if it has a readable one (for error replies)."""
    try:
        value = json.loads(raw).get("id", "")
    except (ValueError, AttributeError):
        return ""
    return value if isinstance(value, str) else ""
