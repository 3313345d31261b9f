"""One writer, many readers, as a hall runs them: ``python -m hall`` and ``python -m web`` as
two processes on a real broker. The writer listens for no HTTP; the web service cannot write
the journal, acts only through its own broker account, and either can die without taking the
other's work with it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.broker import connect
from support.hall import write_hall_config
from webhall import JSON, MANAGER, client, write_accounts

from broker_config.process import MosquittoProcess
from hall.journal_reader import JournalReader, JournalUnreadable
from hallconfig import load_hall_config
from protocol import messages as m
from protocol.link import SyncClient, new_command_id
from protocol.topics import HallTopics, StateKind

ROOT = Path(__file__).resolve().parents[2]
UP_S = 20.0


@pytest.fixture
def hall_files(tmp_path: Path, fresh_broker: MosquittoProcess) -> Path:
    config = write_hall_config(tmp_path / "hall", fresh_broker, all_day=True)
    write_accounts(config.parent / "managers.toml")
    return config


@pytest.fixture
def processes() -> Iterator[dict[str, subprocess.Popen[bytes]]]:
    started: dict[str, subprocess.Popen[bytes]] = {}
    yield started
    for process in started.values():
        if process.poll() is None:
            process.kill()
            process.wait()


def start(what: str, config: Path, started: dict[str, subprocess.Popen[bytes]]) -> None:
    log = config.parent / f"{what}.log"
    with log.open("ab") as out:
        started[what] = subprocess.Popen([sys.executable, "-m", what, "--config", str(config)],
                                         cwd=ROOT, stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=out)


def wait_until(check: object, what: str, logs: Path) -> None:
    deadline = time.monotonic() + UP_S
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            text = "\n".join(p.read_text(errors="replace")[-2000:] for p in logs.glob("*.log"))
            raise AssertionError(f"{what} not within {UP_S} s\n{text}")
        time.sleep(0.05)


def listening_sockets(pid: int) -> set[int]:
    """Inodes of the TCP sockets process ``pid`` listens on."""
    owned = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = fd.readlink().name
            if target.startswith("socket:["):
                owned.add(int(target[8:-1]))
    listening = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A":  # LISTEN
                listening.add(int(fields[9]))
    return owned & listening


def web_port(config: Path) -> int:
    return load_hall_config(config).web.port


async def live(config: Path) -> dict[str, object]:
    url = f"http://127.0.0.1:{web_port(config)}"
    async with client(url) as session:
        await session.post(f"{url}/api/login", data=json.dumps(
            {"name": MANAGER[0], "password": MANAGER[1]}), headers=JSON)
        response = await session.get(f"{url}/api/live")
        assert response.status == 200
        return dict(await response.json())


def kiosk_issues(broker: MosquittoProcess, hall: str) -> m.Reply:
    """A kiosk takes a ticket for service A over the broker, as a kiosk does."""
    topics = HallTopics(hall)
    kiosk = connect(broker.broker_settings("kiosk-1"))
    try:
        kiosk.subscribe(topics.reply("kiosk-1"))
        command = m.IssueTicket(id=new_command_id(), service="A")
        kiosk.publish(topics.command("kiosk-1", "issue"), m.encode(command),
                      response_topic=topics.reply("kiosk-1"), correlation=b"c1")
        got = kiosk.wait_for(lambda r: r.topic == topics.reply("kiosk-1"), 10.0)
        assert got is not None, "no reply to the kiosk"
        return m.decode(m.Reply, got.payload)
    finally:
        kiosk.close()


def readable(journal: Path) -> bool:
    """The controller has created the journal (the web service waits for this too)."""
    try:
        JournalReader.open(journal).close()
    except JournalUnreadable:
        return False
    return True


def start_both(config: Path, started: dict[str, subprocess.Popen[bytes]]) -> None:
    """The controller, then, once its journal is there, the web service."""
    start("hall", config, started)
    wait_until(lambda: readable(config.parent / "journal.sqlite3"), "the journal",
               config.parent)
    start("web", config, started)
    wait_until(lambda: web_up(config), "the web service", config.parent)


def web_up(config: Path) -> bool:
    try:
        with contextlib.closing(socket.create_connection(
                ("127.0.0.1", web_port(config)), 0.2)):
            return True
    except OSError:
        return False


async def test_the_writer_serves_no_http_and_the_web_service_does(
        hall_files: Path, fresh_broker: MosquittoProcess,
        processes: dict[str, subprocess.Popen[bytes]]) -> None:
    start_both(hall_files, processes)
    assert listening_sockets(processes["hall"].pid) == set()
    assert listening_sockets(processes["web"].pid)  # the manager's app and the status page


async def test_killing_the_web_service_leaves_the_hall_working(
        hall_files: Path, fresh_broker: MosquittoProcess,
        processes: dict[str, subprocess.Popen[bytes]]) -> None:
    start_both(hall_files, processes)
    processes["web"].kill()
    processes["web"].wait()
    reply = kiosk_issues(fresh_broker, load_hall_config(hall_files).hall.id)
    assert reply.ok, reply.error


async def test_the_tablet_shows_the_hall_offline_while_the_controller_is_down(
        hall_files: Path, fresh_broker: MosquittoProcess,
        processes: dict[str, subprocess.Popen[bytes]]) -> None:
    start_both(hall_files, processes)

    async def online() -> bool:
        return bool((await live(hall_files))["hall"]["online"])  # type: ignore[index]

    await _eventually(online, True, hall_files)
    processes["hall"].kill()
    processes["hall"].wait()
    await _eventually(online, False, hall_files)  # the broker's last will: offline
    start("hall", hall_files, processes)
    await _eventually(online, True, hall_files)
    reply = kiosk_issues(fresh_broker, load_hall_config(hall_files).hall.id)
    assert reply.ok
    number = reply.result_as(m.TicketResult).ticket.number

    async def listed() -> bool:
        tickets = (await live(hall_files))["tickets"]
        return any(t["number"] == number for t in tickets)  # type: ignore[attr-defined]

    await _eventually(listed, True, hall_files)  # the web service followed the new controller


async def _eventually(probe: object, wanted: bool, config: Path) -> None:
    deadline = time.monotonic() + UP_S
    while await probe() != wanted:  # type: ignore[operator]
        assert time.monotonic() < deadline, f"still not {wanted} after {UP_S} s"
        await asyncio.sleep(0.1)


async def test_the_web_service_cannot_write_the_journal(
        hall_files: Path, fresh_broker: MosquittoProcess,
        processes: dict[str, subprocess.Popen[bytes]]) -> None:
    start("hall", hall_files, processes)
    journal = hall_files.parent / "journal.sqlite3"
    wait_until(lambda: readable(journal), "the journal", hall_files.parent)
    reader = JournalReader.open(journal)
    try:
        for sql in ("INSERT INTO events(day, at, kind, data) VALUES ('2026-01-01', 0, 'x', '{}')",
                    "DELETE FROM events", "DROP TABLE replies", "PRAGMA user_version = 9"):
            with pytest.raises(sqlite3.OperationalError, match="readonly"):
                await reader.query(sql)
    finally:
        reader.close()


def test_the_web_services_account_sends_only_the_managers_commands(
        hall_files: Path, fresh_broker: MosquittoProcess) -> None:
    topics = HallTopics(load_hall_config(hall_files).hall.id)
    web: SyncClient = connect(fresh_broker.broker_settings("web"))
    try:
        for name in sorted(m.COMMANDS):
            ack = web.publish(topics.command("web", name), b"{}")
            assert ack.is_failure != (name in m.MANAGER_COMMANDS), (name, ack)
        for other in ("kiosk-1", "caller-1", "manager", "controller"):
            assert web.publish(topics.command(other, "issue"), b"{}").is_failure, other
        assert web.publish(topics.state(StateKind.HALL), b"{}").is_failure
    finally:
        web.close()


async def test_a_managers_action_names_who_acted_in_the_journal(
        hall_files: Path, fresh_broker: MosquittoProcess,
        processes: dict[str, subprocess.Popen[bytes]]) -> None:
    start_both(hall_files, processes)
    config = load_hall_config(hall_files)
    url = f"http://127.0.0.1:{config.web.port}"
    async with client(url) as session:
        await session.post(f"{url}/api/login", data=json.dumps(
            {"name": MANAGER[0], "password": MANAGER[1]}), headers=JSON)
        done = await session.post(f"{url}/api/commands/set_notice",
                                  data=json.dumps({"text": "午休 12:00-13:00"}), headers=JSON)
        assert done.status == 200, await done.text()
    reader = JournalReader.open(hall_files.parent / "journal.sqlite3")
    try:
        rows = await reader.query("SELECT data FROM events WHERE kind = 'notice_set'")
    finally:
        reader.close()
    assert [json.loads(r[0]) for r in rows] == [{"text": "午休 12:00-13:00", "by": MANAGER[0]}]

