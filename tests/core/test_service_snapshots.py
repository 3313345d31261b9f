"""Each service's retained snapshot shows a command's change before its reply goes: no
command, a ticket moved to another service included, leaves a service's counts behind."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from support.hall import start_controller

from broker_config.process import MosquittoProcess
from hall.controller import Controller
from hall.snapshots import service_state
from protocol import messages as m
from protocol.link import new_command_id
from protocol.topics import StateKind

COUNTS = ("waiting", "issued_today", "quota_left", "intake_open", "longest_wait_min")


def counts(message: m.Message) -> dict[str, Any]:
    return message.model_dump(include=set(COUNTS))


def assert_current(controller: Controller, after: str) -> None:
    """Every service's last published snapshot has the counts the engine has now."""
    now = controller.clock.now()
    for service in controller.engine.queues:
        published = controller._published[controller.link.topics.state(
            StateKind.SERVICE, service)]
        fresh = service_state(controller.engine, service, controller.projection, now)
        assert counts(published) == counts(fresh), (after, service)


async def run(controller: Controller, name: str, command: m.Command,
              device: str) -> dict[str, Any]:
    reply = await controller.execute(name, command, device)
    assert reply.ok, (name, reply.error)
    assert_current(controller, name)
    return reply.result or {}


async def test_every_command_leaves_each_service_snapshot_current(
        broker: MosquittoProcess, tmp_path: Path) -> None:
    controller = await start_controller(broker, tmp_path)
    try:
        assert_current(controller, "start")
        tickets = []
        for service in ("A", "B", "B", "C", "E"):
            issued = await run(controller, "issue", m.IssueTicket(
                id=new_command_id(), service=service), "kiosk-1")
            ticket = issued["ticket"]["ticket"]
            await run(controller, "printed", m.TicketPrinted(id=new_command_id(),
                                                              ticket=ticket), "kiosk-1")
            tickets.append(ticket)
        await run(controller, "move", m.MoveTicket(id=new_command_id(), ticket=tickets[1],
                                                   to_service="D"), "manager")
        await run(controller, "cancel", m.CancelTicket(id=new_command_id(), ticket=tickets[2]),
                  "manager")
        await run(controller, "set_intake", m.SetIntake(id=new_command_id(), service="F",
                                                        open=False), "manager")
        called = await run(controller, "call_next", m.CallNext(id=new_command_id()), "caller-1")
        assert called["called"] is not None
        await run(controller, "recall", m.Recall(id=new_command_id()), "caller-1")
        await run(controller, "start", m.StartService(id=new_command_id()), "caller-1")
        await run(controller, "transfer", m.Transfer(id=new_command_id(), to_service="G"),
                  "caller-1")
        await run(controller, "call_next", m.CallNext(id=new_command_id()), "caller-2")
        await run(controller, "no_show", m.NoShow(id=new_command_id()), "caller-2")
        await run(controller, "call_next", m.CallNext(id=new_command_id()), "caller-3")
        await run(controller, "done", m.Done(id=new_command_id()), "caller-3")
    finally:
        await controller.stop()
