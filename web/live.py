"""The live hall as the manager's tablet sees it, and the push of its changes to open pages
as server-sent events, within a cap of streams.

The view calls ``Hub.notice`` after every change it applies. ``LiveFeed`` then renders the
tablet's picture once for every open tablet, in parts (the hall header, each counter, each
service, each open ticket and its estimated wait, the alerts, the devices), and keeps the
parts that changed since the last render as a numbered delta. A call or a pause moves the
estimated wait of every ticket behind it, so the tickets' estimates go out at most every
WAITS_EVERY_S (a new or changed ticket comes with its own at once). A tablet's stream starts
with a full snapshot and then carries only deltas, each numbered one past the last; the page
asks for a new snapshot (reconnects) if it ever sees a gap.

``StreamLimits`` caps the open event streams of a listener, per client address and in all;
one over the cap is answered 429 and its connection closed, so a flood of streams can never
take the file descriptors the process needs.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import resource
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from hall.engine.model import Ticket
from hall.snapshots import counter_state, service_state
from protocol import messages as m
from protocol.topics import TopicError, parse
from web.auth import Auth
from web.guard import error_json

if TYPE_CHECKING:
    from web.hallview import HallView

log = logging.getLogger(__name__)

THROTTLE_S = 0.15  # a burst of changes (one command) becomes one push
KEEPALIVE_S = 10.0  # a fresh render (times move on) or a comment at least this often
WAITS_EVERY_S = 5.0  # tickets' estimated waits go out at most this often (a call moves many)
BACKLOG = 256  # deltas kept for a stream that fell behind; further back, a new snapshot
FILES_MARGIN = 256  # file descriptors beyond the streams: listeners, broker, journal, pages
_OPEN = (m.TicketStatus.PENDING_PRINT, m.TicketStatus.WAITING, m.TicketStatus.CALLED,
         m.TicketStatus.SERVING)
_VOLATILE = ("updated", "rev")  # in the devices' snapshots; the tablet's parts leave them out
_HEADERS = {"Content-Type": "text/event-stream", "Cache-Control": "no-store",
            "X-Accel-Buffering": "no"}
_KEEPALIVE = b": keepalive\n\n"
Rows = dict[str, tuple[tuple[Any, ...], dict[str, Any]]]  # ticket id -> (what it shows, row)


class Hub:
    """A change counter the view bumps; event streams wait on it."""

    def __init__(self) -> None:
        self.version = 0
        self.closed = False
        self._event = asyncio.Event()

    def notice(self, _topic: str, _message: m.Message | None) -> None:
        self.version += 1
        self._event.set()
        self._event = asyncio.Event()

    async def changed(self, seen: int, timeout: float) -> None:
        """Return once the version moved past ``seen``, the hub closed, or ``timeout`` passed."""
        if self.version != seen or self.closed:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):  # no task a wait, unlike wait_for: 1,000
                await self._event.wait()  # streams wake at every change

    def close(self) -> None:
        self.closed = True
        self._event.set()


# ---------------------------------------------------------------- limits
class StreamLimits:
    """How many event streams a listener keeps open: ``total``, and ``per_address`` for any
    one client address."""

    def __init__(self, what: str, total: int, per_address: int) -> None:
        self.what = what
        self.total = total
        self.per_address = per_address
        self.open: dict[str, int] = {}

    def admit(self, address: str) -> str | None:
        """Take a stream for ``address``: None if taken, else why not (no stream taken)."""
        if sum(self.open.values()) >= self.total:
            return (f"the {self.what} has {self.total} event streams open, its limit; "
                    f"try again later")
        if self.open.get(address, 0) >= self.per_address:
            return (f"{address} has {self.per_address} event streams open to the {self.what}, "
                    f"the limit for one address; close some pages")
        self.open[address] = self.open.get(address, 0) + 1
        return None

    def release(self, address: str) -> None:
        left = self.open[address] - 1
        if left:
            self.open[address] = left
        else:
            del self.open[address]


def too_many(why: str) -> web.Response:
    """429 naming the limit; the connection closes, so a refused client holds nothing."""
    response = error_json(429, "too_many_streams", why)
    response.headers["Retry-After"] = "30"
    response.force_close()
    return response


def fit_open_files(streams: int) -> None:
    """Raise this process's soft limit of open files to what ``streams`` event streams and
    the rest need, as far as the hard limit allows; warn if that is not enough."""
    needed = streams + FILES_MARGIN
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        raised = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard))
            soft = raised
        except (OSError, ValueError) as exc:  # e.g. a unit's SystemCallFilter=~@resources
            log.warning("cannot raise the open-files limit: %s", exc)
    if soft != resource.RLIM_INFINITY and soft < needed:
        log.warning("only %d open files allowed (hard limit); %d event streams need %d: "
                    "raise LimitNOFILE or lower the streams' limits", soft, streams, needed)


async def serve_events(request: web.Request, limits: StreamLimits,
                       follow: Callable[[web.StreamResponse], Awaitable[None]]
                       ) -> web.StreamResponse:
    """A server-sent event stream within ``limits``, written by ``follow``; 429 over them."""
    address = request.remote or "unknown"
    why = limits.admit(address)
    if why is not None:
        log.info("event stream refused: %s", why)
        return too_many(why)
    try:
        response = web.StreamResponse(headers=_HEADERS)
        await response.prepare(request)
        with contextlib.suppress(ConnectionResetError):
            await follow(response)
        return response
    finally:
        limits.release(address)


async def event_stream(request: web.Request, hub: Hub, limits: StreamLimits,
                       render: Callable[[], dict[str, Any] | None]) -> web.StreamResponse:
    """Server-sent events of a small page: a whole render now, and again after a change
    whenever it differs (else a comment at least every KEEPALIVE_S); a render of None ends
    the stream."""

    async def follow(response: web.StreamResponse) -> None:
        last: dict[str, Any] | None = None
        written = time.monotonic()
        while not hub.closed:
            seen = hub.version
            data = render()
            if data is None:
                await response.write(b"event: gone\ndata: {}\n\n")
                return
            if data != last or time.monotonic() - written >= KEEPALIVE_S:
                await response.write(_frame(data) if data != last else _KEEPALIVE)
                last, written = data, time.monotonic()
            await hub.changed(seen, KEEPALIVE_S)
            await asyncio.sleep(THROTTLE_S)

    return await serve_events(request, limits, follow)


def _frame(data: dict[str, Any]) -> bytes:
    return f"data: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


# ---------------------------------------------------------------- the tablet's picture
@dataclass
class Parts:
    """The tablet's picture, keyed so that two renders can be compared part by part."""

    hall: dict[str, Any]
    counters: dict[str, dict[str, Any]]
    services: dict[str, dict[str, Any]]
    tickets: dict[str, dict[str, Any]]  # open tickets, without their estimated wait
    waits: dict[str, int | None]  # each open ticket's estimated wait, whole minutes
    alerts: list[dict[str, Any]]
    devices: list[dict[str, Any]]
    now: str = ""
    now_ts: float = 0.0

    def snapshot(self, seq: int) -> dict[str, Any]:
        """Everything, as one message."""
        return {"type": "snapshot", "seq": seq, "now": self.now, "now_ts": self.now_ts,
                "hall": self.hall, "counters": list(self.counters.values()),
                "services": list(self.services.values()),
                "tickets": [{**row, "estimated_wait_min": self.waits[tid]}
                            for tid, row in self.tickets.items()],
                "alerts": self.alerts, "devices": self.devices}

    def delta(self, after: Parts) -> dict[str, Any] | None:
        """What changed from this picture to ``after`` (empty: nothing), or None if the
        counters or services themselves changed (only a snapshot says that)."""
        if list(self.counters) != list(after.counters) \
                or list(self.services) != list(after.services):
            return None
        out: dict[str, Any] = {}
        if self.hall != after.hall:
            out["hall"] = after.hall
        for name in ("counters", "services"):
            old, new = getattr(self, name), getattr(after, name)
            changed = [row for key, row in new.items() if old[key] != row]
            if changed:
                out[name] = changed
        rows = [{**row, "estimated_wait_min": after.waits[tid]}
                for tid, row in after.tickets.items()
                if (old := self.tickets.get(tid)) is not row and old != row]
        if rows:
            out["tickets"] = rows
        gone = [tid for tid in self.tickets if tid not in after.tickets]
        if gone:
            out["gone"] = gone
        waits = {tid: wait for tid, wait in after.waits.items()
                 if tid in self.waits and self.waits[tid] != wait
                 and self.tickets[tid] == after.tickets[tid]}
        if waits:
            out["waits"] = waits
        for name in ("alerts", "devices"):
            if getattr(self, name) != getattr(after, name):
                out[name] = getattr(after, name)
        return out

    def hold_waits(self, after: Parts) -> bool:
        """Keep this picture's estimates in ``after`` for the tickets whose row did not
        change; True if any of those estimates had moved (they are owed)."""
        moved = False
        for tid, row in after.tickets.items():
            if self.tickets.get(tid) == row:
                moved = moved or after.waits[tid] != self.waits[tid]
                after.waits[tid] = self.waits[tid]
        return moved


def render_parts(view: HallView, rows: Rows | None = None) -> Parts:
    """The tablet's picture of the hall now; ``rows`` keeps the tickets' rows between
    renders (a ticket that did not change keeps the very same row)."""
    engine, now, projection = view.engine, view.clock.now(), view.projection
    cfg = engine.config
    devices = device_states(view)
    offline = {d["counter"] for d in devices if d["counter"] and d["state"] == "offline"}
    names_en = {c.id: c.name_en for c in cfg.counters}
    counters = {}
    for desk in engine.desks.values():
        state = _stable(counter_state(engine, desk, now).model_dump(mode="json"))
        counters[desk.counter_id] = {
            **state, "name_en": names_en.get(desk.counter_id, desk.name),
            "served": desk.served, "since_ts": desk.since,
            "offline": desk.counter_id in offline}
    services = {s.id: {**_stable(service_state(engine, s.id, projection, now)
                                 .model_dump(mode="json")),
                       "name": s.name, "name_en": s.name_en, "daily_quota": s.daily_quota}
                for s in cfg.services}
    cache: Rows = {} if rows is None else rows
    tickets: dict[str, dict[str, Any]] = {}
    waits: dict[str, int | None] = {}
    for ticket in engine.tickets.values():
        if ticket.status in _OPEN:
            tickets[ticket.ticket_id] = ticket_row(view, ticket, cache)
            wait = projection.wait_seconds(ticket)
            waits[ticket.ticket_id] = None if wait is None else round(wait / 60)
    alerts = sorted(view.alerts.active.values(), key=lambda a: a.at, reverse=True)
    hall = {"id": cfg.hall.id, "name": cfg.hall.name, "name_en": cfg.hall.name_en,
            "timezone": cfg.hall.timezone, "date": engine.day.isoformat(),
            "notice": engine.notice, "ended": engine.ended,
            "wait_target_min": cfg.rules.wait_target_min, "online": view.controller_online,
            "upstream": view.upstream.as_json()}
    return Parts(hall, counters, services, tickets, waits,
                 [a.model_dump(mode="json") for a in alerts], devices,
                 now.isoformat(), now.timestamp())


def _stable(state: dict[str, Any]) -> dict[str, Any]:
    for key in _VOLATILE:
        state.pop(key, None)
    return state


def ticket_row(view: HallView, ticket: Ticket, rows: Rows) -> dict[str, Any]:
    """An open ticket for the tablet's ticket list: nothing personal."""
    key = (ticket.status, ticket.counter, ticket.service, ticket.channel)
    kept = rows.get(ticket.ticket_id)
    if kept is not None and kept[0] == key:
        return kept[1]
    row = {"ticket": ticket.ticket_id, "number": ticket.number, "service": ticket.service,
           "status": ticket.status.value, "channel": ticket.channel.value,
           "issued": f"{view.engine.local(ticket.issued_at):%H:%M}", "counter": ticket.counter}
    rows[ticket.ticket_id] = (key, row)
    return row


_GROUPS = {m.Role.KIOSK: "kiosk", m.Role.CALLER: "caller", m.Role.DISPLAY: "display"}


def device_states(view: HallView) -> list[dict[str, Any]]:
    """Each expected device (the config's, but the web service's own and the manager's) with
    its group (kiosk, caller, display, other), presence and health as last heard; "never":
    not heard today (not heard online by this service today, no health report dated today)."""
    heard: dict[str, dict[str, Any]] = {}
    for topic, message in view.link.state.items():
        try:
            parsed = parse(topic)
        except TopicError:
            continue
        entry = heard.setdefault(parsed.kind, {})
        if isinstance(message, m.Presence):
            entry["state"] = message.state.value
        elif isinstance(message, m.DeviceHealth):
            entry["ok"] = message.ok
            entry["printer"] = message.printer.value if message.printer else None
            entry["detail"] = message.detail
            entry["today"] = view.engine.local(message.at.timestamp()).date() == view.engine.day
    devices = []
    for device in view.config.devices:
        if device.role == m.Role.MANAGER:  # this very web app, and the manager's account
            continue
        entry = heard.get(device.id, {})
        state = entry.get("state", "never")
        if view.online_on.get(device.id) != view.engine.day and not entry.get("today"):
            state = "never"
        devices.append({"id": device.id, "role": str(device.role),
                        "group": _GROUPS.get(m.Role(device.role), "other"),
                        "counter": device.counter, "state": state, "ok": entry.get("ok", True),
                        "printer": entry.get("printer"), "detail": entry.get("detail", "")})
    return devices




# ---------------------------------------------------------------- the feed
@dataclass
class LiveFeed:
    """The tablet's picture, rendered at most once per change for all open tablets, and the
    numbered deltas between renders."""

    view: HallView
    hub: Hub
    seq: int = 0
    parts: Parts | None = None
    deltas: deque[tuple[int, bytes]] = field(default_factory=lambda: deque(maxlen=BACKLOG))
    _version: int = -1
    _rendered: float = 0.0
    _waits_sent: float = 0.0
    _waits_owed: bool = False
    _snapshot: tuple[int, bytes] = (0, b"")
    _rows: Rows = field(default_factory=dict)
    render_s: float = 0.0  # how long the last render took

    def update(self) -> None:
        """Render again if the hall changed (or the last render is KEEPALIVE_S old), and
        keep what changed as the next delta."""
        clock = time.monotonic()
        fresh = clock - self._rendered < KEEPALIVE_S - THROTTLE_S
        if self.parts is not None and self.hub.version == self._version and fresh \
                and not (self._waits_owed and self.waits_due() == 0):
            return
        self._version, self._rendered = self.hub.version, clock
        self._render(clock)
        self.render_s = time.monotonic() - clock

    def _render(self, clock: float) -> None:
        if self.parts is not None and self.parts.hall["date"] != self.view.engine.day.isoformat():
            self._rows.clear()  # a new day: yesterday's tickets are gone
        after = render_parts(self.view, self._rows)
        before, self.parts = self.parts, after
        if before is None:
            return
        if self.waits_due():
            self._waits_owed = before.hold_waits(after)
        else:
            self._waits_sent, self._waits_owed = clock, False
        delta = before.delta(after)
        if delta == {}:
            return
        self.seq += 1
        message = after.snapshot(self.seq) if delta is None else {
            "type": "delta", "seq": self.seq, "now": after.now, "now_ts": after.now_ts, **delta}
        self.deltas.append((self.seq, _frame(message)))

    def waits_due(self) -> float:
        """Seconds until tickets' estimates may go out again (0: now)."""
        return max(0.0, self._waits_sent + WAITS_EVERY_S - time.monotonic())

    def wake_in(self) -> float:
        """How long a stream may sleep before it must look again."""
        return self.waits_due() if self._waits_owed else KEEPALIVE_S

    def snapshot(self) -> tuple[int, bytes]:
        """The current picture as one snapshot frame, and its number."""
        self.update()
        assert self.parts is not None
        if self._snapshot[0] != self.seq or not self._snapshot[1]:
            self._snapshot = (self.seq, _frame(self.parts.snapshot(self.seq)))
        return self._snapshot

    def since(self, seq: int) -> bytes | None:
        """The frames after ``seq`` (b"" if none), or None if they are no longer kept."""
        if seq == self.seq:
            return b""
        if not self.deltas or self.deltas[0][0] > seq + 1:
            return None
        return b"".join(frame for n, frame in self.deltas if n > seq)

    async def stream(self, request: web.Request, limits: StreamLimits,
                     signed_in: Callable[[], bool]) -> web.StreamResponse:
        """A tablet's stream: a snapshot, then the deltas, while ``signed_in()``."""

        async def follow(response: web.StreamResponse) -> None:
            seen = self.hub.version
            seq, frame = self.snapshot()
            await response.write(frame)
            while not self.hub.closed:
                await self.hub.changed(seen, self.wake_in())
                await asyncio.sleep(max(THROTTLE_S, self.render_s))  # at most half busy
                if not signed_in():
                    await response.write(b"event: gone\ndata: {}\n\n")
                    return
                seen = self.hub.version
                self.update()
                frames = self.since(seq)
                if frames is None:
                    seq, frames = self.snapshot()
                else:
                    seq = self.seq
                await response.write(frames or _KEEPALIVE)

        return await serve_events(request, limits, follow)


def routes(view: HallView, hub: Hub, auth: Auth, limits: StreamLimits) -> list[web.RouteDef]:
    """``/api/live`` (the snapshot) and ``/api/live/events`` (the snapshot, then deltas)."""
    feed = LiveFeed(view, hub)

    async def live_json(request: web.Request) -> web.Response:
        auth.need(request)
        feed.update()
        assert feed.parts is not None
        return web.json_response(feed.parts.snapshot(feed.seq))

    async def live_events(request: web.Request) -> web.StreamResponse:
        auth.need(request)
        return await feed.stream(request, limits, lambda: auth.current(request) is not None)

    return [web.get("/api/live", live_json), web.get("/api/live/events", live_events)]
