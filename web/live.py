"""The live hall as the manager's tablet sees it, read straight from the controller, and the
push of every change to open pages as server-sent events.

The controller calls ``Hub.notice`` for every snapshot, call and alert it publishes; each
open event stream then renders afresh from the controller's own state. Nothing is copied, so
the pages can never disagree with the MQTT devices.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from hall.engine.model import Ticket
from hall.snapshots import counter_state, service_state
from protocol import messages as m
from protocol.topics import TopicError, parse

if TYPE_CHECKING:
    from hall.controller import Controller

log = logging.getLogger(__name__)

THROTTLE_S = 0.15  # a burst of snapshots (one command) becomes one push
KEEPALIVE_S = 10.0  # and a fresh render at least this often (times move on)
_OPEN = (m.TicketStatus.PENDING_PRINT, m.TicketStatus.WAITING, m.TicketStatus.CALLED,
         m.TicketStatus.SERVING)


class Hub:
    """A change counter the controller bumps; event streams wait on it."""

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
            await asyncio.wait_for(self._event.wait(), timeout)

    def close(self) -> None:
        self.closed = True
        self._event.set()


async def event_stream(request: web.Request, hub: Hub,
                       render: Callable[[], dict[str, Any] | None]) -> web.StreamResponse:
    """Server-sent events: a render now, then one after every change (None ends the stream)."""
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream",
                                           "Cache-Control": "no-store",
                                           "X-Accel-Buffering": "no"})
    await response.prepare(request)
    try:
        while not hub.closed:
            seen = hub.version
            data = render()
            if data is None:
                await response.write(b"event: gone\ndata: {}\n\n")
                break
            await response.write(f"data: {json.dumps(data, ensure_ascii=False)}\n\n".encode())
            await hub.changed(seen, KEEPALIVE_S)
            await asyncio.sleep(THROTTLE_S)
    except ConnectionResetError:
        log.debug("event stream to %s closed", request.remote)
    return response


# ---------------------------------------------------------------- the live snapshot
def live_snapshot(controller: Controller) -> dict[str, Any]:
    """Everything the tablet shows: hall, counters, services, open tickets, alerts, devices."""
    engine, now = controller.engine, controller.clock.now()
    cfg = engine.config
    devices = device_states(controller)
    offline = {d["counter"] for d in devices if d["counter"] and d["state"] == "offline"}
    names_en = {c.id: c.name_en for c in cfg.counters}
    counters = []
    for desk in engine.desks.values():
        state = counter_state(engine, desk, now).model_dump(mode="json")
        counters.append({**state, "name_en": names_en[desk.counter_id], "served": desk.served,
                         "since_ts": desk.since, "offline": desk.counter_id in offline})
    services = [{**service_state(engine, s.id, controller.projection, now).model_dump(mode="json"),
                 "name": s.name, "name_en": s.name_en, "daily_quota": s.daily_quota}
                for s in cfg.services]
    alerts = sorted(controller.alerts.active.values(), key=lambda a: a.at, reverse=True)
    return {
        "hall": {"id": cfg.hall.id, "name": cfg.hall.name, "name_en": cfg.hall.name_en,
                 "timezone": cfg.hall.timezone, "date": engine.day.isoformat(),
                 "notice": engine.notice, "ended": engine.ended,
                 "now": now.isoformat(), "now_ts": now.timestamp(),
                 "wait_target_min": cfg.rules.wait_target_min},
        "counters": counters,
        "services": services,
        "tickets": [ticket_row(controller, t) for t in engine.tickets.values()
                    if t.status in _OPEN],
        "alerts": [a.model_dump(mode="json") for a in alerts],
        "devices": devices,
    }


def ticket_row(controller: Controller, ticket: Ticket) -> dict[str, Any]:
    """An open ticket for the tablet's ticket list: nothing personal."""
    engine = controller.engine
    wait = controller.projection.wait_seconds(ticket)
    return {"ticket": ticket.ticket_id, "number": ticket.number, "service": ticket.service,
            "status": ticket.status.value, "channel": ticket.channel.value,
            "issued": f"{engine.local(ticket.issued_at):%H:%M}", "counter": ticket.counter,
            "estimated_wait_min": None if wait is None else round(wait / 60, 1)}


def device_states(controller: Controller) -> list[dict[str, Any]]:
    """Each configured device with its presence and health as the controller last heard."""
    heard: dict[str, dict[str, Any]] = {}
    for topic, message in controller.link.state.items():
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
    devices = []
    for device in controller.config.devices:
        if device.role == m.Role.MANAGER:  # this very web app, in-process
            continue
        entry = heard.get(device.id, {})
        devices.append({"id": device.id, "role": str(device.role), "counter": device.counter,
                        "state": entry.get("state", "unknown"), "ok": entry.get("ok", True),
                        "printer": entry.get("printer"), "detail": entry.get("detail", "")})
    return devices
