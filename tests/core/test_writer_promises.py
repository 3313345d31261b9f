"""The single writer's promises, attacked from outside (issue 12): a hostile payload never
stops the worker; a failed commit changes nothing; a retry gets its own reply, on any day,
and nobody else's; nothing runs after its sender gave up; the journal is checked."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from support.broker import connect
from support.hall import SHANGHAI, hall_config, start_controller

from broker_config.process import MosquittoProcess
from hall.clock import VirtualClock
from hall.controller import Controller
from hall.journal import Journal, JournalDamaged, backup_dir
from protocol import messages as m
from protocol.link import Link, new_command_id
from protocol.topics import CONTROLLER_ID, HallTopics

HALL = "tianping"
T = HallTopics(HALL)


async def device(broker: MosquittoProcess, device_id: str, role: m.Role) -> Link:
    link = Link(broker.broker_settings(device_id), HALL, device_id, role)
    await link.start()
    return link


def publish_raw(broker: MosquittoProcess, account: str, topic: str, payload: bytes) -> None:
    """Publish as another client would (mosquitto_pub, MQTT 5, QoS 1)."""
    settings = broker.broker_settings(account)
    subprocess.run(["mosquitto_pub", "-h", settings.host, "-p", str(settings.port),
                    "-u", account, "-P", str(settings.password), "-V", "mqttv5", "-q", "1",
                    "-t", topic, "-s"], input=payload, check=True, timeout=10)


def same(a: m.Reply, b: m.Reply) -> bool:
    """The same reply, but for the controller's clock as it sent each."""
    return a.model_copy(update={"clock": None}) == b.model_copy(update={"clock": None})


async def issue(link: Link, service: str = "A", command_id: str | None = None) -> m.Reply:
    return await link.request("issue", m.IssueTicket(id=command_id or new_command_id(),
                                                     service=service))


# ---------------------------------------------------------------- 1. the worker cannot die
@pytest.mark.parametrize("payload", [
    b"[" * 5000 + b"]" * 5000,
    b'{"v":1,"id":"\\ud800","service":"A"}',
    b'{"v":1,"id":"abcdefgh12","reason":"\\udfff","ticket":"20261123-A001"}',
    b'{"v":1,"id":"abcdefgh12","service":"A","x":' + b"[" * 60 + b"]" * 60 + b"}",
    b"\xff\xfe\x00garbage",
    b'{"v":1,"id":"' + b"9" * 100_000 + b'"}',
], ids=["deep-array", "lone-surrogate-id", "lone-surrogate-field", "deep-field", "not-utf8",
        "huge"])
async def test_a_hostile_payload_is_refused_and_the_worker_goes_on(
        fresh_broker: MosquittoProcess, controller: Controller, payload: bytes) -> None:
    kiosk = await device(fresh_broker, "kiosk-1", m.Role.KIOSK)
    try:
        publish_raw(fresh_broker, "kiosk-1", T.command("kiosk-1", "issue"), payload)
        reply = await issue(kiosk)  # answered after the hostile one, in order
        assert reply.ok, reply.error
        assert controller.healthy()
        assert controller.refusals.totals[m.ErrorCode.INTERNAL] == 0
        assert sum(controller.refusals.totals.values()) == 1
    finally:
        await kiosk.close()


async def test_a_reply_that_cannot_be_sent_does_not_stop_the_worker(
        fresh_broker: MosquittoProcess, controller: Controller,
        monkeypatch: pytest.MonkeyPatch) -> None:
    kiosk = await device(fresh_broker, "kiosk-1", m.Role.KIOSK)
    publish = controller.link.publish
    broken = {"left": 1}

    def flaky(topic: str, message: m.Message | None, **kwargs: object) -> object:
        if "/reply/" in topic and broken["left"]:
            broken["left"] -= 1
            raise ValueError("cannot encode")
        return publish(topic, message, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(controller.link, "publish", flaky)
    try:
        command_id = new_command_id()
        with pytest.raises(TimeoutError):
            await kiosk.request("issue", m.IssueTicket(id=command_id, service="A"), timeout=2)
        again = await kiosk.request("issue", m.IssueTicket(id=command_id, service="A"))
        assert again.ok and controller.healthy()
    finally:
        await kiosk.close()


# ---------------------------------------------------------------- 2. nothing before its commit
@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB file system of its own for the journal (tmpfs; the suite runs as root)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


def fill(disk: Path) -> None:
    """Take every byte left on the disk."""
    fd = os.open(disk / "filler", os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    try:
        for size in (1 << 16, 1 << 10, 1):
            with contextlib.suppress(OSError):
                while True:
                    os.write(fd, b"\0" * size)
    finally:
        os.close(fd)


def free(disk: Path) -> None:
    (disk / "filler").unlink()


def _picture(controller: Controller) -> object:
    e = controller.engine
    return ({t.ticket_id: (t.status, t.counter) for t in e.tickets.values()},
            {s: (q.issued, q.last_number, q.waiting) for s, q in e.queues.items()},
            {d.counter_id: (d.status, d.clerk, d.ticket and d.ticket.ticket_id)
             for d in e.desks.values()}, e.call_seq)


async def test_a_full_disk_changes_nothing_and_the_hall_recovers_by_itself(
        fresh_broker: MosquittoProcess, small_disk: Path) -> None:
    controller = await start_controller(fresh_broker, small_disk)
    kiosk = await device(fresh_broker, "kiosk-1", m.Role.KIOSK)
    confirmed: list[str] = []
    try:
        for _ in range(3):
            reply = await issue(kiosk, "C")
            assert reply.ok and reply.result is not None
            confirmed.append(reply.result["ticket"]["number"])
        fill(small_disk)
        before = _picture(controller)
        refused = [await issue(kiosk, "C") for _ in range(40)]
        assert all(r.error and r.error.code is m.ErrorCode.STORAGE_UNAVAILABLE for r in refused)
        assert _picture(controller) == before
        assert (m.AlertKind.STORAGE, "journal") in controller.alerts.active
        free(small_disk)
        reply = await issue(kiosk, "C")
        assert reply.ok and reply.result is not None
        confirmed.append(reply.result["ticket"]["number"])
        assert (m.AlertKind.STORAGE, "journal") not in controller.alerts.active
    finally:
        await kiosk.close()
        await controller.stop()
    assert confirmed == ["C001", "C002", "C003", "C004"]
    restarted = await start_controller(fresh_broker, small_disk, staffed=False)
    kiosk = await device(fresh_broker, "kiosk-1", m.Role.KIOSK)
    try:
        reply = await issue(kiosk, "C")
        assert reply.ok and reply.result is not None
        assert reply.result["ticket"]["number"] == "C005"  # no number twice, none skipped
    finally:
        await kiosk.close()
        await restarted.stop()


async def test_a_failed_tick_commit_leaves_no_void_of_an_unjournaled_ticket(
        fresh_broker: MosquittoProcess, small_disk: Path) -> None:
    clock = VirtualClock(datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI))
    controller = await start_controller(fresh_broker, small_disk, clock=clock)
    kiosk = await device(fresh_broker, "kiosk-1", m.Role.KIOSK)
    try:
        assert (await issue(kiosk)).ok  # pending its print
        fill(small_disk)
        clock.advance(120)
        await controller.tick(clock.now())  # would void it: the commit fails
        assert [t.status for t in controller.engine.tickets.values()] == [
            m.TicketStatus.PENDING_PRINT]
        free(small_disk)
        await controller.tick(clock.now())
        assert [t.status for t in controller.engine.tickets.values()] == [m.TicketStatus.VOID]
    finally:
        await kiosk.close()
        await controller.stop()


# ---------------------------------------------------------------- 3. a retry across midnight
async def test_a_retry_after_midnight_gets_the_stored_reply_and_the_hall_restarts(
        fresh_broker: MosquittoProcess, tmp_path: Path) -> None:
    config = hall_config()
    hours = config.hours.model_copy(update={"monday": ["08:30", "23:59"]})
    services = [s.model_copy(update={"last_ticket": None}) for s in config.services]
    late = VirtualClock(datetime(2026, 11, 23, 23, 57, tzinfo=SHANGHAI))
    config = config.model_copy(update={"hours": hours, "services": services})
    controller = await start_controller(fresh_broker, tmp_path, clock=late, config=config)
    kiosk = await device(fresh_broker, "kiosk-1", m.Role.KIOSK)
    command_id = new_command_id()
    try:
        first = await issue(kiosk, "A", command_id)
        assert first.ok
        late.set(datetime(2026, 11, 24, 0, 3, tzinfo=SHANGHAI))
        again = await issue(kiosk, "A", command_id)
        assert same(again, first)
        await controller.tick(late.now())
    finally:
        await kiosk.close()
        await controller.stop()
    issued = await controller_journal_rows(tmp_path, "ticket_issued")
    assert issued == 1
    restarted = await start_controller(fresh_broker, tmp_path, clock=late, staffed=False)
    try:
        assert restarted.healthy()
    finally:
        await restarted.stop()


async def test_a_retry_days_later_gets_the_journaled_reply_not_a_new_answer(
        fresh_broker: MosquittoProcess, tmp_path: Path) -> None:
    """The replies are looked up in the journal: a retry of a print's confirmation three
    days on (its ticket is no longer today's, so running it again would be refused) gets
    the reply it got then, and nothing is journaled again."""
    clock = VirtualClock(datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI))
    controller = await start_controller(fresh_broker, tmp_path, clock=clock)
    kiosk = await device(fresh_broker, "kiosk-1", m.Role.KIOSK)
    command_id = new_command_id()
    try:
        issued = await issue(kiosk)
        assert issued.ok and issued.result is not None
        printed = m.TicketPrinted(id=command_id, ticket=issued.result["ticket"]["ticket"])
        first = await kiosk.request("printed", printed)
        assert first.ok
        clock.set(datetime(2026, 11, 26, 9, 0, tzinfo=SHANGHAI))
        await controller.tick(clock.now())
        again = await kiosk.request("printed", printed)
        assert same(again, first)
        other = await kiosk.request("printed", printed.model_copy(update={
            "id": new_command_id()}))
        assert other.error is not None and other.error.code is m.ErrorCode.UNKNOWN_TICKET
    finally:
        await kiosk.close()
        await controller.stop()
    assert await controller_journal_rows(tmp_path, "ticket_printed") == 1


async def controller_journal_rows(directory: Path, kind: str) -> int:
    journal = await Journal.open(directory / "journal.sqlite3")
    try:
        rows = await journal.query("SELECT count(*) FROM events WHERE kind = ?", (kind,))
        return int(rows[0][0])
    finally:
        await journal.close()


# ---------------------------------------------------------------- 4. replies are the sender's
async def test_a_command_id_is_the_senders_own(fresh_broker: MosquittoProcess,
                                               controller: Controller) -> None:
    kiosk1 = await device(fresh_broker, "kiosk-1", m.Role.KIOSK)
    kiosk2 = await device(fresh_broker, "kiosk-2", m.Role.KIOSK)
    caller = await device(fresh_broker, "caller-1", m.Role.CALLER)
    shared = new_command_id()
    try:
        mine = await issue(kiosk1, "A", shared)
        theirs = await issue(kiosk2, "A", shared)
        assert mine.ok and theirs.ok and mine.result and theirs.result
        assert theirs.result["ticket"]["number"] != mine.result["ticket"]["number"]
        assert theirs.result["ticket"]["token"] != mine.result["ticket"]["token"]
        other_body = await issue(kiosk1, "E", shared)
        assert other_body.error is not None and other_body.error.code is m.ErrorCode.ID_REUSED
        assert same(await issue(kiosk1, "A", shared), mine)
        await kiosk1.request("printed", m.TicketPrinted(id=new_command_id(),
                                                        ticket=mine.result["ticket"]["ticket"]))
        called = await caller.request("call_next", m.CallNext(id=shared))
        assert called.ok and called.result is not None and called.result["called"] is not None
    finally:
        for link in (kiosk1, kiosk2, caller):
            await link.close()


async def test_only_the_printing_kiosk_confirms_its_print(fresh_broker: MosquittoProcess,
                                                          controller: Controller) -> None:
    kiosk1 = await device(fresh_broker, "kiosk-1", m.Role.KIOSK)
    kiosk2 = await device(fresh_broker, "kiosk-2", m.Role.KIOSK)
    try:
        reply = await issue(kiosk1)
        assert reply.result is not None
        ticket = reply.result["ticket"]["ticket"]
        for name, command in (
                ("printed", m.TicketPrinted(id=new_command_id(), ticket=ticket)),
                ("void", m.VoidTicket(id=new_command_id(), ticket=ticket, reason="jam"))):
            other = await kiosk2.request(name, command)
            assert other.error is not None and other.error.code is m.ErrorCode.FORBIDDEN
        assert (await kiosk1.request("printed", m.TicketPrinted(
            id=new_command_id(), ticket=ticket))).ok
    finally:
        await kiosk1.close()
        await kiosk2.close()


# ---------------------------------------------------------------- 5. no session theft
async def test_no_account_on_the_lan_can_take_the_controllers_client_id(
        fresh_broker: MosquittoProcess, controller: Controller) -> None:
    settings = fresh_broker.broker_settings("display-lobby", lan=True)
    kiosk = await device(fresh_broker, "kiosk-1", m.Role.KIOSK)
    try:
        for _ in range(3):
            impostor = await asyncio.to_thread(
                connect, settings, client_id=CONTROLLER_ID, keepalive=10)
            assert (await issue(kiosk)).ok
            impostor.close()
        assert controller.link.connected
    finally:
        await kiosk.close()


# ---------------------------------------------------------------- 6. wrong PINs
async def test_wrong_pins_are_limited_and_never_journaled(
        fresh_broker: MosquittoProcess, controller: Controller) -> None:
    caller = await device(fresh_broker, "caller-3", m.Role.CALLER)
    kiosk = await device(fresh_broker, "kiosk-1", m.Role.KIOSK)
    rows_before = await controller.journal.query("SELECT count(*) FROM events")
    try:
        codes = []
        for i in range(30):
            reply = await caller.request("sign_in", m.SignIn(
                id=new_command_id(), staff_no="C-3", pin=f"{i:04d}9"))
            assert reply.error is not None
            codes.append(reply.error.code)
            assert (await issue(kiosk)).ok  # the hall answers others meanwhile
        assert codes[:3] == [m.ErrorCode.BAD_CREDENTIALS] * 3
        assert codes.count(m.ErrorCode.BAD_CREDENTIALS) <= 4
        assert codes[-1] is m.ErrorCode.TOO_MANY_ATTEMPTS
        right = await caller.request("sign_in", m.SignIn(id=new_command_id(), staff_no="C-3",
                                                         pin="2468"))
        assert right.error is not None and right.error.code is m.ErrorCode.TOO_MANY_ATTEMPTS
    finally:
        await caller.close()
        await kiosk.close()
    issued = 30
    rows_after = await controller.journal.query("SELECT count(*) FROM events")
    assert rows_after[0][0] - rows_before[0][0] == issued  # the tickets, no sign-in attempt


async def test_ten_failures_lock_the_clerk_and_tell_the_manager(controller: Controller) -> None:
    """Guesses as fast as the growing delays allow: the tenth locks the clerk for good."""
    clock = [0.0]
    controller.sign_ins._clock = lambda: clock[0]
    failures = 0
    while failures < 10:
        reply = await controller.execute("sign_in", m.SignIn(
            id=new_command_id(), staff_no="C-3", pin="0000"), "caller-3")
        assert reply.error is not None
        failures += reply.error.code is m.ErrorCode.BAD_CREDENTIALS
        clock[0] += 1
    assert clock[0] < 15 * 60
    assert (m.AlertKind.SIGN_IN_LOCKED, "C-3") in controller.alerts.active
    clock[0] += 60
    right = await controller.execute("sign_in", m.SignIn(
        id=new_command_id(), staff_no="C-3", pin="2468"), "caller-4")
    assert right.error is not None and right.error.code is m.ErrorCode.TOO_MANY_ATTEMPTS


# ---------------------------------------------------------------- 7. a damaged journal
async def test_a_damaged_or_vanished_journal_stops_the_controller(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    journal = await Journal.open(path)
    await journal.commit(datetime(2026, 11, 23).date(), 0.0, [])
    await journal.close()
    data = path.read_bytes()
    path.write_bytes(data[:100] + b"\x00garbage" * 200 + data[1700:])
    with pytest.raises(JournalDamaged, match="damaged"):
        await Journal.open(path)
    path.write_bytes(b"")
    with pytest.raises(JournalDamaged, match="empty"):
        await Journal.open(path)
    path.unlink()
    with pytest.raises(JournalDamaged, match="missing"):
        await Journal.open(path)


def test_the_controller_exits_non_zero_naming_a_damaged_journal(tmp_path: Path) -> None:
    from support.hall import EXAMPLE_HALL
    config = tmp_path / "hall.toml"
    config.write_text(EXAMPLE_HALL.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "hall-secret").write_bytes(b"x" * 32)
    journal = tmp_path / "state" / "hall-journal.sqlite3"
    journal.write_bytes(b"SQLite format 3\x00" + b"\xff" * 4000)
    done = subprocess.run([sys.executable, "-m", "hall", "--config", str(config)],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 3
    assert f"journal {journal} is damaged" in done.stderr


async def test_a_new_day_backs_the_journal_up(fresh_broker: MosquittoProcess,
                                              tmp_path: Path) -> None:
    clock = VirtualClock(datetime(2026, 11, 23, 16, 0, tzinfo=SHANGHAI))
    controller = await start_controller(fresh_broker, tmp_path, clock=clock)
    try:
        clock.advance(timedelta(hours=10).total_seconds())
        await controller.tick(clock.now())
        assert controller._backup is not None
        await controller._backup
    finally:
        await controller.stop()
    copies = list(backup_dir(tmp_path / "journal.sqlite3").glob("*.sqlite3"))
    assert len(copies) == 1
    copy = await Journal.open(copies[0])
    try:
        assert (await copy.query("SELECT count(*) FROM events"))[0][0] > 0
    finally:
        await copy.close()


# ---------------------------------------------------------------- 8. no ghost commands
async def test_a_command_given_up_while_the_controller_was_down_never_runs(
        fresh_broker: MosquittoProcess, tmp_path: Path) -> None:
    controller = await start_controller(fresh_broker, tmp_path)
    await controller.stop()
    kiosk = await device(fresh_broker, "kiosk-1", m.Role.KIOSK)
    try:
        for _ in range(3):
            with pytest.raises(TimeoutError):
                await issue_with(kiosk, "D", timeout=2)
        controller = await start_controller(fresh_broker, tmp_path, staffed=False)
        reply = await issue(kiosk, "E")  # answered after whatever was queued for it
        assert reply.ok
        assert [t.number for t in controller.engine.tickets.values()] == ["E001"]
    finally:
        await kiosk.close()
        await controller.stop()


async def issue_with(link: Link, service: str, timeout: float) -> m.Reply:
    return await link.request("issue", m.IssueTicket(id=new_command_id(), service=service),
                              timeout=timeout)


async def test_a_command_held_up_past_its_deadline_is_refused(
        fresh_broker: MosquittoProcess, controller: Controller) -> None:
    """However late it arrives (a broker or controller that was stopped holds it with a fresh
    expiry), a command past the deadline its sender gave (controller's clock) never runs."""
    kiosk = await device(fresh_broker, "kiosk-1", m.Role.KIOSK)
    watcher = connect(fresh_broker.broker_settings(CONTROLLER_ID))
    watcher.subscribe(T.command("kiosk-1", "issue"))
    try:
        assert (await issue(kiosk)).ok  # the link learns the controller's clock
        assert (await issue(kiosk)).ok
        sent = m.decode(m.IssueTicket, watcher.messages[-1].payload)
        assert sent.deadline is not None and sent.deadline > time.time()
        late = m.IssueTicket(id=new_command_id(), service="B", deadline=time.time() - 0.1)
        publish_raw(fresh_broker, "kiosk-1", T.command("kiosk-1", "issue"), m.encode(late))
        assert (await issue(kiosk, "C")).ok
        assert not any(t.service == "B" for t in controller.engine.tickets.values())
        assert controller.refusals.totals[m.ErrorCode.EXPIRED] == 1
    finally:
        watcher.close()
        await kiosk.close()


async def test_a_command_past_its_deadline_is_refused(controller: Controller) -> None:
    from hall.intake import Request
    answer: asyncio.Future[m.Reply] = asyncio.get_running_loop().create_future()
    raw = m.encode(m.IssueTicket(id=new_command_id(), service="A"))
    controller._submit(Request("manager", "issue", raw, deadline=0.0, answer=answer))
    reply = await answer
    assert reply.error is not None and reply.error.code is m.ErrorCode.EXPIRED
    assert not controller.engine.tickets


# ---------------------------------------------------------------- 9. strict and cheap
@pytest.mark.parametrize(("name", "payload"), [
    ("issue", b'{"v":true,"id":"abcdefgh12","service":"A"}'),
    ("issue", b'{"v":1.0,"id":"abcdefgh12","service":"A"}'),
    ("issue", b'{"v":1,"id":"abcdefgh12","service":"A","green":0}'),
    ("printed", '{"v":1,"id":"abcdefgh12","ticket":"20261123-A٠٠١"}'.encode()),
    ("evaluate", b'{"v":1,"id":"abcdefgh12","rating":"5"}'),
    ("evaluate", b'{"v":1,"id":"abcdefgh12","rating":5.0}'),
    ("book", b'{"v":1,"id":"abcdefgh12","id_hash":"' + b"a" * 64
     + b'","service":"A","slot":"9999-12-31T09:00:00+08:00"}'),
])
def test_loose_types_are_malformed(name: str, payload: bytes) -> None:
    with pytest.raises(m.PayloadError) as refused:
        m.decode(m.COMMANDS[name], payload)
    assert refused.value.code in (m.ErrorCode.MALFORMED, m.ErrorCode.BAD_VERSION)


async def test_a_flood_of_refusals_is_neither_journaled_nor_logged_line_by_line(
        fresh_broker: MosquittoProcess, controller: Controller,
        caplog: pytest.LogCaptureFixture) -> None:
    caller = await device(fresh_broker, "caller-3", m.Role.CALLER)
    rows_before = await controller.journal.query("SELECT count(*) FROM replies")
    caplog.set_level(logging.INFO)
    try:
        for _ in range(200):
            reply = await caller.request("recall", m.Recall(id=new_command_id()))
            assert reply.error is not None
        for _ in range(200):
            assert await caller.delivered(caller.publish(T.command("caller-3", "done"), None), 5)
        assert (await caller.request("recall", m.Recall(id=new_command_id()))).error
    finally:
        await caller.close()
    rows_after = await controller.journal.query("SELECT count(*) FROM replies")
    assert rows_after == rows_before
    refused_lines = [r for r in caplog.records if "refused" in r.getMessage()]
    assert len(refused_lines) <= 4


async def test_the_watchdog_is_fed_only_while_the_worker_lives(controller: Controller) -> None:
    assert controller.healthy()
    worker = controller._tasks[0]
    worker.cancel()
    await asyncio.gather(worker, return_exceptions=True)
    assert not controller.healthy()  # systemd restarts a controller whose worker is gone


async def test_a_retried_sign_in_still_being_checked_is_answered_once(
        controller: Controller, monkeypatch: pytest.MonkeyPatch) -> None:
    """A redelivery (same id) while the PIN is still being hashed is not "too many attempts":
    the first check's reply, with the same correlation data, answers both."""
    from hall.intake import Request
    sent: list[m.Reply] = []
    answered = asyncio.Event()

    def capture(topic: str, message: m.Message | None, **kwargs: object) -> None:
        if isinstance(message, m.Reply):
            sent.append(message)
            answered.set()

    monkeypatch.setattr(controller.link, "publish", capture)
    raw = m.encode(m.SignIn(id=new_command_id(), staff_no="C-3", pin="2468"))
    for _ in range(2):
        controller._submit(Request("caller-3", "sign_in", raw, correlation=b"c"))
    await asyncio.wait_for(answered.wait(), 5)
    await asyncio.gather(*controller._checks)
    await controller.execute("set_notice", m.SetNotice(id=new_command_id(), text="x"))
    assert [r.ok for r in sent] == [True], sent
    assert controller.refusals.totals[m.ErrorCode.TOO_MANY_ATTEMPTS] == 0
