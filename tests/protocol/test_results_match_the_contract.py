"""Every command, sent by a device that may send it to a real controller, answers with the
result model protocol/messages.py gives it (m.RESULTS, which protocol/asyncapi.yaml documents),
exactly as that model writes it; a result that does not fit is refused naming the problem; and
the README's examples of each command are accepted by the controller's own decoding."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from support.hall import SHANGHAI

from hall.controller import Controller
from protocol import asyncapi
from protocol import messages as m
from protocol.link import new_command_id

HASH = "ab" * 32


async def test_every_command_answers_with_its_documented_result(controller: Controller) -> None:
    seen: set[str] = set()

    async def send(device: str, name: str, **fields: Any) -> dict[str, Any]:
        command = m.COMMANDS[name](id=new_command_id(), **fields)
        reply = await controller.execute(name, command, device)
        assert reply.ok, (name, reply.error)
        assert reply.result is not None
        result = m.result_of(reply, name)
        assert type(result) is m.RESULTS[name]
        assert result.model_dump(mode="json") == reply.result  # the wire is the model, exactly
        seen.add(name)
        return reply.result

    def issue() -> Any:
        return send("kiosk-1", "issue", service="A")

    first = (await issue())["ticket"]["ticket"]
    await send("kiosk-1", "printed", ticket=first)
    await send("kiosk-1", "void", ticket=(await issue())["ticket"]["ticket"], reason="jam")
    await send("kiosk-1", "lookup", id_hash=HASH)
    await send("kiosk-1", "help")
    await send("caller-3", "call_next")
    await send("caller-3", "recall")
    await send("caller-3", "start")
    await send("caller-3", "transfer", to_service="C")
    await send("caller-4", "call_next")
    await send("caller-4", "no_show")
    second = (await send("manager", "issue", service="A", print_on_kiosk=False))["ticket"]
    await send("manager", "reprint", ticket=second["ticket"])
    await send("manager", "move", ticket=second["ticket"], to_service="B")
    await send("manager", "cancel", ticket=second["ticket"])
    third = (await send("manager", "issue", service="A", print_on_kiosk=False))["ticket"]
    called = await send("caller-3", "call_next")
    assert called["called"]["ticket"] == third["ticket"]
    await send("caller-3", "done")
    await send("caller-3", "evaluate", rating=m.Rating.VERY_SATISFIED)
    for action in ("pause", "resume", "sign_out"):
        await send("caller-3", action)
    await send("caller-3", "sign_in", staff_no="C-3", pin="2468")
    for action in ("close_counter", "open_counter"):
        await send("manager", action, counter="5")
    await send("manager", "set_counter_services", counter="5", services=["A", "C"])
    await send("manager", "set_intake", service="C", open=False)
    await send("manager", "set_notice", text="notice")
    await send("manager", "follow_up", kind="help_requested", subject="kiosk-1")
    await send("upstream", "book", id_hash=HASH, service="E",
               slot=datetime(2026, 11, 24, 10, 0, tzinfo=SHANGHAI))
    await send("manager", "end_day")
    assert seen == set(m.COMMANDS)


def test_the_readme_commands_are_what_the_controller_decodes() -> None:
    for example in asyncapi.examples(asyncapi.README.read_text(encoding="utf-8")):
        model = asyncapi.PAYLOADS[example.model]
        if issubclass(model, m.Command):
            m.check_shape(example.text.encode())
            assert m.command_id_of(example.text.encode()) == example.payload["id"]


def _ticket() -> dict[str, Any]:
    return {"ticket": "20261123-A001", "number": "A001", "service": "A", "status": "waiting",
            "channel": "normal", "issued_at": "2026-11-23T09:00:00+08:00"}


@pytest.mark.parametrize(("result", "named"), [
    ({}, "ticket: Field required"),
    ({"ticket": {**_ticket(), "status": "lost"}}, "ticket.status"),
    ({"ticket": _ticket(), "extra": 1}, "extra: Extra inputs are not permitted"),
    ({"ticket": {**_ticket(), "issued_at": "soon"}}, "ticket.issued_at"),
])
def test_a_result_that_does_not_fit_its_model_is_refused_naming_the_field(
        result: dict[str, Any], named: str) -> None:
    reply = m.Reply(id="command-0001", ok=True, result=result)
    with pytest.raises(m.PayloadError, match="not a TicketResult") as refused:
        m.result_of(reply, "issue")
    assert named in str(refused.value)
    assert refused.value.code is m.ErrorCode.MALFORMED


def test_a_refusal_or_an_unknown_command_has_no_result_to_read() -> None:
    refusal = m.Reply(id="command-0002", ok=False,
                      error=m.ErrorInfo(code=m.ErrorCode.CLOSED, message="closed"))
    with pytest.raises(m.PayloadError, match="no result to read as CallResult"):
        refusal.result_as(m.CallResult)
    ok = m.Reply(id="command-0003", ok=True, result={"help": "requested"})
    assert m.result_of(ok, "help") == m.HelpResult(help="requested")
    with pytest.raises(m.PayloadError, match="no command 'dance'") as unknown:
        m.result_of(ok, "dance")
    assert unknown.value.code is m.ErrorCode.UNKNOWN_COMMAND
