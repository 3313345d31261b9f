"""Opening time: every window open, no clerk signed in yet. Nothing may be promised then.

Before this was fixed, a ticket printed "前面还有 2 人 · 约 0 分钟", its status page said "不到 1
分钟" and nobody was calling. Now the reply, the printed ticket, the status page, the kiosk,
the displays and the city say "等候时间待定 / wait not yet known" until a window with a clerk
serves the service; a counter calls only with a clerk at it; and the manager is told which
windows are open without a clerk while residents wait for them.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from support.hall import SHANGHAI, clerk_of, staff_counters, start_controller

from broker_config.process import MosquittoProcess
from caller.session import BEEP_SIGN_IN, SIGN_IN_FIRST, CounterSession, Order
from display.picture import wait_text
from hall.clock import VirtualClock
from hall.controller import Controller
from hall.engine.projection import project
from hall.snapshots import hall_state, service_state, summary
from kiosk.events import Phase
from kiosk.flow import Flow
from kiosk.ticket import printout_for
from kiosk.view import build_view
from protocol import messages as m
from protocol.link import new_command_id
from web.status import Ranks, status_view

OPENING = datetime(2026, 11, 23, 8, 30, tzinfo=SHANGHAI)


async def issue(controller: Controller, service: str) -> m.TicketView:
    reply = await controller.execute("issue", m.IssueTicket(
        id=new_command_id(), service=service, print_on_kiosk=False))
    assert reply.ok and reply.result is not None, reply.error
    return m.TicketView.model_validate_json(json.dumps(reply.result["ticket"]))


def kiosk_waits(controller: Controller) -> dict[str, str]:
    """What the kiosk's service buttons say, from the hall's service states."""
    engine, now = controller.engine, controller.clock.now()
    projection = project(engine, now.timestamp())
    flow = Flow(phase=Phase.IDLE, hall=hall_state(engine),
                services={s: service_state(engine, s, projection, now) for s in engine.queues})
    return {b.service: b.wait for b in build_view(flow, now).services}


def displays_and_city(controller: Controller) -> tuple[dict[str, str], dict[str, Any]]:
    """What the lobby display shows per service, and what the city is sent: each service's
    wait, and (as "*") how many windows can call."""
    engine, now = controller.engine, controller.clock.now()
    projection = project(engine, now.timestamp())
    shown = {s: wait_text(service_state(engine, s, projection, now)) for s in engine.queues}
    hall = summary(engine, projection, now)
    sent: dict[str, Any] = {s.service: s.estimated_wait_min for s in hall.services}
    return shown, {**sent, "*": hall.counters_open}


async def test_nothing_is_promised_until_a_clerk_serves_the_service(
        fresh_broker: MosquittoProcess, tmp_path: Path) -> None:
    controller = await start_controller(fresh_broker, tmp_path, VirtualClock(OPENING),
                                        staffed=False)
    try:
        engine = controller.engine
        assert all(d.available and d.clerk is None for d in engine.desks.values())
        first = {s: await issue(controller, s) for s in engine.queues}  # every service
        third_a = [await issue(controller, "A") for _ in range(2)][-1]
        assert third_a.ahead == 2 and third_a.estimated_wait_min is None
        assert all(v.estimated_wait_min is None for v in first.values())
        assert printout_for(third_a, hall_state(engine)).wait_lines == (
            "等候时间待定", "wait to be confirmed")
        await issue(controller, "G")  # its command saw the projection with every ticket
        page = status_view(controller, engine.tickets[third_a.ticket], Ranks(), 0)
        assert (page["ahead_zh"], page["wait_zh"], page["wait_en"]) == (
            "前面还有 2 人", "等候时间待定", "Wait not yet known")
        assert set(kiosk_waits(controller).values()) == {"等候时间待定"}
        shown, sent = displays_and_city(controller)
        assert set(shown.values()) == {"等候时间待定"}
        assert sent.pop("*") == 0 and set(sent.values()) == {None}

        refused = await controller.execute("call_next", m.CallNext(id=new_command_id()),
                                           "caller-1")
        assert refused.error is not None
        assert refused.error.code is m.ErrorCode.SIGN_IN_REQUIRED
        session = CounterSession("1")
        outcome = session.settle(Order("call_next", m.CallNext(id=new_command_id())), refused)
        assert (outcome.ok, outcome.text, outcome.beeps) == (False, SIGN_IN_FIRST, BEEP_SIGN_IN)
        assert "sign in first" in outcome.text and "请先签到" in outcome.text

        await controller.tick(controller.clock.now())
        no_clerk = {s for k, s in controller.alerts.active if k is m.AlertKind.NO_CLERK}
        assert no_clerk == set(engine.desks)  # every window open, none staffed, all awaited

        await staff_counters(controller, ["11"])  # the residence-permit specialist (E)
        assert engine.desks["11"].clerk == clerk_of("11")
        late_e = await issue(controller, "E")
        assert late_e.estimated_wait_min is not None and late_e.estimated_wait_min > 0
        assert (await issue(controller, "A")).estimated_wait_min is None
        waits = kiosk_waits(controller)
        assert waits["E"].startswith("约 ") and waits["A"] == "等候时间待定"
        shown, sent = displays_and_city(controller)
        assert shown["E"].startswith("约 ") and shown["A"] == "等候时间待定"
        assert sent["E"] is not None and sent["A"] is None and sent["*"] == 1
        called = await controller.execute("call_next", m.CallNext(id=new_command_id()),
                                          "caller-11")
        assert called.ok and called.result is not None
        assert called.result["called"]["number"] == first["E"].number
        await controller.tick(controller.clock.now())
        no_clerk = {s for k, s in controller.alerts.active if k is m.AlertKind.NO_CLERK}
        assert no_clerk == set(engine.desks) - {"11"}
    finally:
        await controller.stop()
