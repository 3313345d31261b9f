"""The controller on a real Mosquitto: a day in miniature, duplicates, malformed payloads."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path

import pytest
from support.hall import start_controller, weekday_morning

from broker_config.process import MosquittoProcess
from hall.controller import Controller
from protocol import messages as m
from protocol.link import Inbound, Link, RequestTimeout, new_command_id
from protocol.topics import EventKind, HallTopics, StateKind

HALL = "tianping"


async def device(broker: MosquittoProcess, device_id: str, role: m.Role,
                 follow: tuple[str, ...] = ()) -> Link:
    link = Link(broker.broker_settings(device_id), HALL, device_id, role, follow=follow)
    await link.start()
    return link


async def ok(link: Link, name: str, command: m.Command) -> dict:
    reply = await link.request(name, command)
    assert reply.ok, reply.error
    assert reply.result is not None
    return reply.result


async def take_ticket(kiosk: Link, service: str) -> str:
    result = await ok(kiosk, "issue", m.IssueTicket(id=new_command_id(), service=service))
    ticket = result["ticket"]["ticket"]
    await ok(kiosk, "printed", m.TicketPrinted(id=new_command_id(), ticket=ticket))
    return str(result["ticket"]["number"])


async def test_a_day_in_miniature(fresh_broker: MosquittoProcess,
                                  controller: Controller) -> None:
    """Two kiosks, three counters of different skills; the display sees every call in order."""
    display = await device(fresh_broker, "display-lobby", m.Role.DISPLAY,
                           (f"lobby/{HALL}/event/call",))
    calls: list[m.CallEvent] = []
    all_seen = asyncio.Event()
    expected_calls = 6

    def on_call(inbound: object) -> None:
        payload = getattr(inbound, "payload", None)
        if isinstance(payload, m.CallEvent):
            calls.append(payload)
            if len(calls) == expected_calls:
                all_seen.set()

    display.on_message(on_call)
    kiosks = [await device(fresh_broker, f"kiosk-{i}", m.Role.KIOSK) for i in (1, 2)]
    comprehensive, social, residence = [
        await device(fresh_broker, f"caller-{c}", m.Role.CALLER) for c in ("1", "10", "11")]
    numbers = [await take_ticket(kiosks[i % 2], s) for i, s in enumerate("AEBAEG")]
    assert numbers == ["A001", "E001", "B001", "A002", "E002", "G001"]

    async def next_number(caller: Link) -> str | None:
        result = await ok(caller, "call_next", m.CallNext(id=new_command_id()))
        return result["called"]["number"] if result["called"] else None

    assert await next_number(residence) == "E001"  # window 11 serves only E
    assert await next_number(social) == "A001"  # window 10 serves A and B
    assert await next_number(comprehensive) == "B001"
    assert await next_number(social) == "A002"
    assert await next_number(residence) == "E002"
    assert await next_number(comprehensive) == "G001"
    assert await next_number(residence) is None  # finishes E002; nobody left for window 11
    refused = await residence.request("call_next", m.CallNext(id=new_command_id()))
    assert not refused.ok and refused.error is not None
    assert refused.error.code is m.ErrorCode.NOTHING_WAITING

    await asyncio.wait_for(all_seen.wait(), 5)
    assert [c.seq for c in calls] == list(range(1, expected_calls + 1))
    assert [(c.number, c.counter) for c in calls] == [
        ("E001", "11"), ("A001", "10"), ("B001", "1"), ("A002", "10"), ("E002", "11"),
        ("G001", "1")]
    for link in (display, *kiosks, comprehensive, social, residence):
        await link.close()


async def test_the_same_command_twice_has_one_effect(fresh_broker: MosquittoProcess,
                                                      controller: Controller) -> None:
    kiosk = await device(fresh_broker, "kiosk-1", m.Role.KIOSK)
    command = m.IssueTicket(id=new_command_id(), service="F")
    first = await kiosk.request("issue", command)
    # A QoS 1 redelivery looks exactly like this: the same payload, published again.
    second = await kiosk.request("issue", command)
    assert first.model_copy(update={"clock": None}) == second.model_copy(update={"clock": None})
    assert first.ok
    other = await ok(kiosk, "issue", m.IssueTicket(id=new_command_id(), service="F"))
    assert other["ticket"]["number"] == "F002"
    rows = await controller.journal.query(
        "SELECT COUNT(*) FROM events WHERE kind = 'ticket_issued'")
    assert rows == [(2,)]
    await kiosk.close()


MALFORMED = [
    b"",
    b"{not json",
    b"[]",
    b'{"v": 1}',
    b'{"v": 2, "id": "abcdefgh12"}',
    b'{"v": 1, "id": "abcdefgh12", "surprise": true}',
    json.dumps({"v": 1, "id": "x" * 200}).encode(),
    "\u00ff\u00fe".encode("latin-1"),
]


async def test_malformed_payloads_on_every_command_topic(fresh_broker: MosquittoProcess,
                                                         controller: Controller) -> None:
    """Every command, each malformed payload, from a device whose role may send it: an error
    reply each time."""
    replies: asyncio.Queue[m.Reply] = asyncio.Queue()

    def collect(inbound: object) -> None:
        payload = getattr(inbound, "payload", None)
        if isinstance(payload, m.Reply):
            replies.put_nowait(payload)

    senders = {"manager": m.Role.MANAGER, "kiosk-1": m.Role.KIOSK, "caller-1": m.Role.CALLER,
               "upstream": m.Role.UPSTREAM}
    links = {name: await device(fresh_broker, name, role) for name, role in senders.items()}
    for sender, link in links.items():
        # Replies without our correlation data are not futures' business: read them raw.
        link._client.subscribe(link.topics.reply(sender), qos=1)
        link.on_message(collect)
    sent = 0
    for name in m.COMMANDS:
        sender = next(d for d, role in senders.items() if name in m.ALLOWED[role])
        for payload in MALFORMED:
            links[sender]._client.publish(links[sender].topics.command(sender, name), payload,
                                          qos=1)
            sent += 1
    codes = set()
    for _ in range(sent):
        reply = await asyncio.wait_for(replies.get(), 10)
        assert not reply.ok and reply.error is not None
        codes.add(reply.error.code)
    assert codes == {m.ErrorCode.MALFORMED, m.ErrorCode.BAD_VERSION}
    for link in links.values():
        if link is not links["manager"]:
            await link.close()
    manager = links["manager"]
    # Still alive and well:
    result = await ok(manager, "set_notice", m.SetNotice(id=new_command_id(), text="欢迎"))
    assert result == {"notice": "欢迎"}
    await manager.close()


async def test_a_caller_commands_only_its_own_counter(fresh_broker: MosquittoProcess,
                                                    controller: Controller) -> None:
    caller = await device(fresh_broker, "caller-3", m.Role.CALLER)
    # The broker's ACL drops a caller's ticket request before the controller sees it ...
    with pytest.raises(RequestTimeout):
        await caller.request("issue", m.IssueTicket(id=new_command_id(), service="A"), 0.5)
    # ... and the controller refuses what the ACL lets through but the role may not do.
    reply = await caller.request("call_next", m.CallNext(id=new_command_id(), counter="4"))
    assert reply.error is not None and reply.error.code is m.ErrorCode.FORBIDDEN
    await caller.close()


async def test_state_is_retained_for_a_late_display(fresh_broker: MosquittoProcess,
                                                    controller: Controller) -> None:
    kiosk = await device(fresh_broker, "kiosk-1", m.Role.KIOSK)
    caller = await device(fresh_broker, "caller-2", m.Role.CALLER)
    await take_ticket(kiosk, "B")
    await ok(caller, "call_next", m.CallNext(id=new_command_id()))
    late = await device(fresh_broker, "display-lobby", m.Role.DISPLAY,
                        (f"lobby/{HALL}/state/#",))
    counter_topic = f"lobby/{HALL}/state/counter/2"
    calls_topic = f"lobby/{HALL}/state/calls"

    async def has_state() -> None:
        while counter_topic not in late.state or calls_topic not in late.state:
            await asyncio.sleep(0.01)

    await asyncio.wait_for(has_state(), 5)
    counter = late.state[counter_topic]
    assert isinstance(counter, m.CounterState) and counter.number == "B001"
    calls = late.state[calls_topic]
    assert isinstance(calls, m.RecentCalls) and calls.calls[0].number == "B001"
    assert EventKind.CALL.value == "call"
    for link in (kiosk, caller, late):
        await link.close()


async def test_a_kiosk_help_request_alerts_the_manager(fresh_broker: MosquittoProcess,
                                                       controller: Controller) -> None:
    manager = await device(fresh_broker, "manager", m.Role.MANAGER, (f"lobby/{HALL}/event/alert",))
    alerts: asyncio.Queue[m.Alert] = asyncio.Queue()
    manager.on_message(lambda i: alerts.put_nowait(i.payload)
                       if isinstance(i.payload, m.Alert) else None)
    kiosk = await device(fresh_broker, "kiosk-2", m.Role.KIOSK)
    await ok(kiosk, "help", m.RequestHelp(id=new_command_id()))
    alert = await asyncio.wait_for(alerts.get(), 5)
    assert alert.kind is m.AlertKind.HELP_REQUESTED and alert.subject == "kiosk-2"
    rows = await controller.journal.query(
        "SELECT COUNT(*) FROM events WHERE kind = 'help_requested'")
    assert rows == [(1,)]
    for link in (manager, kiosk):
        await link.close()


async def test_every_kiosk_ticket_gets_an_estimate(fresh_broker: MosquittoProcess,
                                                   controller: Controller) -> None:
    """Green and appointment tickets are projected as if already printed and waiting."""
    kiosk = await device(fresh_broker, "kiosk-1", m.Role.KIOSK)
    manager = await device(fresh_broker, "manager", m.Role.MANAGER)
    for _ in range(12):  # more residents than the windows serving C can take at once
        await ok(manager, "issue", m.IssueTicket(id=new_command_id(), service="C",
                                                 print_on_kiosk=False))
    slot = controller.clock.now().replace(minute=10)
    upstream = await device(fresh_broker, "upstream", m.Role.UPSTREAM)
    await ok(upstream, "book", m.BookAppointment(id=new_command_id(), id_hash="c" * 64,
                                                service="C", slot=slot))
    tickets = [
        (await ok(kiosk, "issue", m.IssueTicket(id=new_command_id(), service="C",
                                                id_hash=h, **kw)))["ticket"]
        for h, kw in (("a" * 64, {}), ("b" * 64, {"green": True}),
                      ("c" * 64, {"appointment": True}))]
    normal, green, appointment = tickets
    assert all(t["estimated_wait_min"] is not None for t in tickets)
    assert green["estimated_wait_min"] < normal["estimated_wait_min"]
    assert appointment["estimated_wait_min"] < normal["estimated_wait_min"]
    assert green["ahead"] < normal["ahead"] == 12
    for link in (kiosk, manager, upstream):
        await link.close()


async def test_the_summary_goes_upstream_every_minute_when_nothing_changes(
        fresh_broker: MosquittoProcess, tmp_path: Path) -> None:
    """Neighbouring halls' kiosks judge a summary current by its ``at``: a quiet hall,
    where no figure changes, still sends one a minute."""
    clock = weekday_morning()
    start = clock.now()
    controller = await start_controller(fresh_broker, tmp_path, clock=clock)
    sent: list[m.HallSummary] = []
    fresh = asyncio.Event()

    def listen(inbound: Inbound) -> None:
        if isinstance(inbound.payload, m.HallSummary):
            sent.append(inbound.payload)
            if inbound.payload.at >= start + timedelta(seconds=60):
                fresh.set()

    upstream = await device(fresh_broker, "upstream", m.Role.UPSTREAM,
                            (HallTopics(HALL).state(StateKind.SUMMARY),))
    upstream.on_message(listen)
    try:
        for seconds in (30, 31):
            clock.advance(seconds)
            await controller.tick(clock.now())
        await asyncio.wait_for(fresh.wait(), timeout=10)
        assert sent[-1].at == start + timedelta(seconds=61)
    finally:
        await upstream.close()
        await controller.stop()
