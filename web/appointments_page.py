"""The appointments page: staff book one of today's slots for a resident (on the phone or
at the counter) and see today's bookings with their status.

The clerk types the resident's ID number; this service checks it, hashes it with today's
key as a kiosk would (protocol/identity.py, the hall secret) and forgets it: only the keyed
hash goes on, in a ``book`` command sent over MQTT from the service's own account naming
the clerk. The number is never logged, stored, sent to the controller or answered back;
neither is the hash. The resident checks in later by swiping the card at a kiosk.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

from aiohttp import web

from hall.engine.appointments import (
    AppointmentStatus,
    BookingRow,
    SlotLoad,
    slot_loads,
    todays_bookings,
)
from hardware.idcard.number import parse_id_number
from protocol import messages as m
from protocol.identity import id_hash
from protocol.link import new_command_id
from web.auth import Auth, json_body
from web.errors import ApiError
from web.hallview import HallUnreachable
from web.pages import page

if TYPE_CHECKING:
    from hall.engine.engine import HallEngine
    from web.hallview import HallView

log = logging.getLogger(__name__)

SLOT = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
SHOWN_WITHIN_S = 12.0  # a booking publishes no state: the replica reads it on the next message
_STATUS = {m.ErrorCode.SLOT_FULL: 409, m.ErrorCode.ALREADY_HOLDS: 409,
           m.ErrorCode.UNKNOWN_SERVICE: 404, m.ErrorCode.MALFORMED: 400,
           m.ErrorCode.FORBIDDEN: 403}
_ZH = {m.ErrorCode.SLOT_FULL: "该时段已约满", m.ErrorCode.ALREADY_HOLDS: "该居民今天的预约已签到",
       m.ErrorCode.INVALID_STATE: "无法预约", m.ErrorCode.STORAGE_UNAVAILABLE: "大厅暂时无法记录"}


def _hhmm(engine: HallEngine, t: float) -> str:
    return f"{engine.local(t):%H:%M}"


def bookable(engine: HallEngine, load: SlotLoad, now: float) -> bool:
    """A slot staff may book now: room left, and its check-in not yet closed."""
    closes = load.start + engine.config.rules.appointment_late_min * 60
    return load.free != 0 and now <= closes


def picture(engine: HallEngine, now: float) -> dict[str, Any]:
    """Today's slots per service and today's bookings, as the page shows them."""
    services = []
    for spec in engine.config.services:
        loads = slot_loads(engine, spec.id)
        services.append({
            "id": spec.id, "name": spec.name, "name_en": spec.name_en,
            "slot_min": spec.appointment_slot_min, "capacity": spec.appointment_capacity,
            "slots": [{"start": _hhmm(engine, s.start), "booked": s.booked, "free": s.free,
                       "bookable": bookable(engine, s, now)} for s in loads]})
    rows = todays_bookings(engine, now)
    counts = {status.value: sum(1 for r in rows if r.status is status)
              for status in AppointmentStatus}
    return {"day": engine.day.isoformat(), "now": _hhmm(engine, now), "services": services,
            "appointments": [_row(engine, r) for r in rows], "counts": counts}


def _row(engine: HallEngine, row: BookingRow) -> dict[str, Any]:
    ticket = engine.tickets.get(row.ticket) if row.ticket else None
    spec = engine.services.get(row.service)
    return {"service": row.service, "service_name": spec.name if spec else row.service,
            "slot": _hhmm(engine, row.slot), "status": row.status.value,
            "ticket": ticket.number if ticket else None,
            "ticket_status": ticket.status.value if ticket else None}


def booking_from(engine: HallEngine, secret: bytes, body: dict[str, Any],
                 now: float) -> m.BookAppointment:
    """The ``book`` command for a request's service, slot and ID number (hashed here, then
    dropped), or ApiError naming the field; the number is never repeated in an error."""
    service = body.get("service")
    if not isinstance(service, str) or service not in engine.services:
        raise ApiError(404, "unknown_service",
                       f"没有这项业务 service: no service {service!r} in this hall")
    slot = body.get("slot")
    if not isinstance(slot, str) or not SLOT.match(slot):
        raise ApiError(400, "malformed", "请选择时段 slot: a time of today, HH:MM")
    load = next((s for s in slot_loads(engine, service) if _hhmm(engine, s.start) == slot),
                None)
    if load is None:
        raise ApiError(400, "malformed", f"不是今天的时段 slot: {slot} is not one of "
                                         f"today's slots of service {service}")
    if load.free == 0:
        raise ApiError(409, "slot_full", f"该时段已约满 the {slot} slot of service {service} "
                                         "is full")
    if not bookable(engine, load, now):
        raise ApiError(409, "slot_passed", f"该时段已过 the {slot} slot of service {service} "
                                           "is over: its check-in has closed")
    number = body.get("id_number")
    if not isinstance(number, str):
        raise ApiError(400, "bad_id_number", "请输入身份证号 id_number: the resident's ID number "
                                                "is required")
    try:
        hashed = id_hash(secret, engine.day,
                         parse_id_number(number, today=engine.day).number)
    except ValueError as exc:
        raise ApiError(400, "bad_id_number", f"身份证号无效 id_number: not a valid ID number: "
                                                f"{_reason(exc)}") from None
    return m.BookAppointment(id=new_command_id(), id_hash=hashed, service=service,
                             slot=engine.local(load.start))


def _reason(exc: ValueError) -> str:
    """What is wrong with a number, repeating none of it (a check character's message
    names the character typed)."""
    text = str(exc)
    return "the check character does not match (a character mistyped?)" \
        if "check character" in text else text


def routes(view: HallView, auth: Auth) -> list[web.RouteDef]:
    """The page, its picture and the booking endpoint."""
    secret = view.secret  # the hall secret the replica was built with: today's hash key

    async def appointments_page(request: web.Request) -> web.Response:
        session = auth.page_session(request)
        return page("appointments.html", hall=view.config.hall.name, user=session.name,
                    role=session.role.value, may_act="true" if session.may_act else "false")

    async def current(request: web.Request) -> web.Response:
        auth.need(request)
        return web.json_response(picture(view.engine, view.clock.now().timestamp()))

    async def book(request: web.Request) -> web.Response:
        session = auth.need(request, act=True)
        command = booking_from(view.engine, secret, await json_body(request),
                               view.clock.now().timestamp())
        before = view.rev
        try:
            reply = await view.execute("book", command, by=session.name)
        except HallUnreachable as exc:
            raise ApiError(503, "hall_unreachable", f"the hall controller did not answer "
                           f"({exc}); the booking may not have been made: try again") from None
        if not reply.ok:
            error = reply.error or m.ErrorInfo(code=m.ErrorCode.INTERNAL, message="refused")
            log.info("%s could not book service %s: %s", session.name, command.service,
                     error.code.value)
            raise ApiError(_STATUS.get(error.code, 409), error.code.value,
                           f"{_ZH.get(error.code, '未能预约')} {error.message}")
        log.info("%s booked service %s at %s", session.name, command.service,
                 f"{command.slot:%H:%M}")
        try:
            await view.settled(before + 1, timeout=SHOWN_WITHIN_S)
        except TimeoutError:
            log.warning("the booking is made but the replica has not read it yet")
        return web.json_response({"ok": True, "service": command.service,
                                  "slot": f"{command.slot:%H:%M}"})

    return [web.get("/appointments", appointments_page),
            web.get("/api/appointments", current), web.post("/api/appointments", book)]
