"""Over a real Mosquitto: the booking system's ``book`` (and staff's, from the web service's
manager account) honours each slot's capacity, today's and a later day's, and today's also
after the controller restarts on its journal; a full slot is refused with ``slot_full`` and
the kiosk checks in who was booked."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from support.hall import SECRET, start_controller, weekday_morning
from test_appointment_slots import config, person

from broker_config.process import MosquittoProcess
from protocol import messages as m
from protocol.identity import id_hash
from protocol.link import Link, new_command_id

HALL = "tianping"


async def device(broker: MosquittoProcess, device_id: str, role: m.Role) -> Link:
    link = Link(broker.broker_settings(device_id), HALL, device_id, role)
    await link.start()
    return link


async def book(link: Link, who: str, service: str, slot: object) -> m.Reply:
    return await link.request("book", m.BookAppointment(
        id=new_command_id(), id_hash=who, service=service, slot=slot))


async def test_upstream_book_honours_capacity_across_a_restart(
        fresh_broker: MosquittoProcess, tmp_path: Path) -> None:
    clock = weekday_morning()  # Monday 09:00
    ten = clock.now().replace(hour=10)
    controller = await start_controller(fresh_broker, tmp_path, clock, config())
    upstream = await device(fresh_broker, "upstream", m.Role.UPSTREAM)
    web = await device(fresh_broker, "web", m.Role.MANAGER)
    try:
        for n in range(3):
            assert (await book(upstream, person(n), "C", ten + timedelta(minutes=n))).ok
        assert (await book(web, person(3), "C", ten + timedelta(minutes=29))).ok  # staff
        full = await book(upstream, person(4), "C", ten + timedelta(minutes=15))
        assert not full.ok and full.error is not None
        assert full.error.code is m.ErrorCode.SLOT_FULL
        assert "10:00" in full.error.message
        assert (await book(upstream, person(4), "C", ten + timedelta(minutes=30))).ok
        tuesday = ten + timedelta(days=1)
        for n in range(4):
            assert (await book(upstream, person(10 + n), "C", tuesday)).ok
        refused = await book(upstream, person(14), "C", tuesday)
        assert refused.error is not None and refused.error.code is m.ErrorCode.SLOT_FULL
        rev = controller.rev
    finally:
        await controller.stop()
    again = await start_controller(fresh_broker, tmp_path, clock, config(), staffed=False)
    try:
        assert again.rev == rev  # today's events: Tuesday's bookings are not today's
        refused = await book(upstream, person(5), "C", ten)
        assert refused.error is not None and refused.error.code is m.ErrorCode.SLOT_FULL
        refused = await book(upstream, person(15), "C", tuesday)  # the restart forgot nothing
        assert refused.error is not None and refused.error.code is m.ErrorCode.SLOT_FULL
    finally:
        await again.stop()
        await upstream.close()
        await web.close()


async def test_a_resident_booked_by_staff_checks_in_with_the_card(
        fresh_broker: MosquittoProcess, tmp_path: Path) -> None:
    """The web service hashes the number with today's key: the kiosk's swipe matches it."""
    clock = weekday_morning()
    number = "11010519491231002X"
    controller = await start_controller(fresh_broker, tmp_path, clock, config())
    web = await device(fresh_broker, "web", m.Role.MANAGER)
    kiosk = await device(fresh_broker, "kiosk-1", m.Role.KIOSK)
    try:
        swiped = id_hash(SECRET, clock.now().date(), number)
        assert (await book(web, swiped, "C", clock.now().replace(hour=9, minute=30))).ok
        reply = await kiosk.request("issue", m.IssueTicket(
            id=new_command_id(), service="C", id_hash=swiped, appointment=True))
        assert reply.ok and reply.result is not None
        assert reply.result["ticket"]["channel"] == "appointment"
    finally:
        await kiosk.close()
        await web.close()
        await controller.stop()
