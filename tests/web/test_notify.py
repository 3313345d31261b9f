"""The upstream notification hook on a running hall: one "three_ahead" and one "called" per
ticket, in order, none for a voided ticket, none again after a restart of the web service."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from webhall import WebHall, start_web_hall

from broker_config.process import MosquittoProcess
from protocol import messages as m
from protocol.link import new_command_id
from web.notify import RECORD_FILE, NoticeWatch, RecordingNotifier


async def issue(hall: WebHall, device: str = "manager", on_kiosk: bool = False) -> str:
    reply = await hall.execute("issue", m.IssueTicket(
        id=new_command_id(), service="A", print_on_kiosk=on_kiosk), device)
    assert reply.ok and reply.result
    return str(reply.result["ticket"]["ticket"])


async def test_each_ticket_is_told_once_when_near_and_once_when_called(
        web_hall: WebHall, tmp_path: Path) -> None:
    view = web_hall.view
    recorder = RecordingNotifier(tmp_path / RECORD_FILE)
    watch = NoticeWatch(view, recorder)  # driven by hand: every change is looked at
    tickets = [await issue(web_hall) for _ in range(2)]
    voided = await issue(web_hall, "kiosk-1", on_kiosk=True)
    assert (await web_hall.execute("void", m.VoidTicket(
        id=new_command_id(), ticket=voided, reason="paper out"), "kiosk-1")).ok
    tickets += [await issue(web_hall) for _ in range(5)]
    await watch.send_due()
    near = [(n.ticket, n.event) for n in recorder.sent]
    assert near == [(t, "three_ahead") for t in tickets[:4]]  # 0..3 ahead; the voided none
    assert [n.ahead for n in recorder.sent] == [0, 1, 2, 3]
    for _ in tickets:
        call = await web_hall.execute("call_next", m.CallNext(id=new_command_id()), "caller-1")
        assert call.ok
        await watch.send_due()
        await web_hall.execute("recall", m.Recall(id=new_command_id()), "caller-1")
        await watch.send_due()  # a recall tells nobody again
        await web_hall.execute("done", m.Done(id=new_command_id()), "caller-1")
        await watch.send_due()
    for ticket in tickets:
        told = [n.event for n in recorder.sent if n.ticket == ticket]
        assert told == ["three_ahead", "called"], ticket
    assert not [n for n in recorder.sent if n.ticket == voided]
    called = [n for n in recorder.sent if n.event == "called"]
    assert [n.ticket for n in called] == tickets  # in the order they were called
    assert {n.window for n in called} == {"1"}
    recorded = [json.loads(line) for line in (tmp_path / RECORD_FILE).read_text().splitlines()]
    assert [(r["ticket"], r["event"]) for r in recorded] == [
        (n.ticket, n.event) for n in recorder.sent]
    tokens = {r["token"] for r in recorded}
    assert tokens == {view.engine.token_for(t) for t in tickets}
    assert not {"id_hash", "phone", "name"} & set(recorded[0])  # nothing personal


async def test_a_restarted_web_service_tells_nobody_twice(web_hall: WebHall,
                                                          tmp_path: Path) -> None:
    view = web_hall.view
    first = [await issue(web_hall) for _ in range(2)]
    await web_hall.execute("call_next", m.CallNext(id=new_command_id()), "caller-1")
    before = RecordingNotifier(tmp_path / "before.jsonl")
    await NoticeWatch(view, before).send_due()
    assert [(n.ticket, n.event) for n in before.sent] == [
        (first[0], "called"), (first[1], "three_ahead")]  # called at once: never "near" alone
    after = RecordingNotifier(tmp_path / "after.jsonl")
    again = NoticeWatch(view, after)  # a new process would read the same ledger
    await again.send_due()
    assert after.sent == []
    late = await issue(web_hall)
    await again.send_due()
    assert [(n.ticket, n.event, n.ahead) for n in after.sent] == [(late, "three_ahead", 1)]


async def test_the_configured_stub_records_as_the_hall_runs(
        fresh_broker: MosquittoProcess, tmp_path: Path) -> None:
    hall = await start_web_hall(fresh_broker, tmp_path, notifier="record")
    try:
        ticket = await issue(hall)
        await hall.execute("call_next", m.CallNext(id=new_command_id()), "caller-1")
        record = hall.view.state_dir / RECORD_FILE

        async def recorded() -> list[tuple[str, str]]:
            while True:
                lines = record.read_text().splitlines() if record.exists() else []
                if len(lines) >= 2:
                    return [(r["ticket"], r["event"]) for r in map(json.loads, lines)]
                await asyncio.sleep(0.05)

        got = await asyncio.wait_for(recorded(), 10)
        assert got == [(ticket, "three_ahead"), (ticket, "called")]
    finally:
        await hall.stop()
