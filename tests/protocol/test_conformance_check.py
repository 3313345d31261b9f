"""python -m protocol.check against a real broker and controller: every role passes and
sees the hall; a wrong password, a missing controller, a role the account does not have
and a broken retained snapshot each fail naming the problem; nothing is carried out."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
from support.broker import connect, settings_file
from support.hall import ROOT

from broker_config.process import MosquittoProcess
from hall.controller import Controller
from protocol import messages as m
from protocol.link import new_command_id
from protocol.topics import StateKind


async def settled(broker: MosquittoProcess, topic: str, **fields: object) -> None:
    """Wait until the broker has the counter snapshot with ``fields`` on ``topic``: the
    controller's earlier publications (QoS 1, 20 in flight at a time) have gone through."""
    watcher = connect(broker.broker_settings("controller"))
    try:
        watcher.subscribe(topic)
        async with asyncio.timeout(5):
            while not any(msg.topic == topic and fields.items() <= m.decode(
                    m.CounterState, msg.payload).model_dump(mode="json").items()
                    for msg in list(watcher.messages)):
                await asyncio.sleep(0.01)
    finally:
        watcher.close()


async def check(config: Path, *extra: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "protocol.check", "--config", str(config), "--timeout", "3",
        *extra, cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


@pytest.mark.parametrize("device", ["kiosk-1", "caller-3", "display-lobby", "manager",
                                    "upstream"])
async def test_each_role_passes_and_sees_the_hall(
        device: str, fresh_broker: MosquittoProcess, controller: Controller,
        tmp_path: Path) -> None:
    ticket = await controller.execute("issue", m.IssueTicket(id=new_command_id(), service="C"))
    assert ticket.ok
    called = await controller.execute("call_next", m.CallNext(id=new_command_id()), "caller-3")
    assert called.ok and called.result is not None
    await settled(fresh_broker, controller.link.topics.state(StateKind.COUNTER, "3"),
                  ticket=called.result["counter"]["ticket"])
    before = (len(controller.engine.tickets), controller.engine.calls[0])

    code, out, err = await check(settings_file(tmp_path, fresh_broker, device))

    assert code == 0, out + err
    assert "all checks passed" in out and "FAIL" not in out
    assert "ok   may not send" in out or device == "manager"
    for name in m.ALLOWED[m.Role(controller.config.device(device).role)]:  # type: ignore[union-attr]
        assert f"ok   the controller accepts {name} from {device}" in out
    assert "summary tianping: " in out
    if device == "upstream":  # it may read only the summary
        assert "service C" not in out and "current call" not in out
    else:
        assert "ok   the controller is online" in out
        assert "ok   the retained burst is complete" in out
        assert "service C: 0 waiting" in out
        assert "counter 3 3号窗口: open, 职员3, C001" in out
        assert "current call: C001 to 3号窗口 (seq 1)" in out
    assert (len(controller.engine.tickets), controller.engine.calls[0]) == before  # nothing ran
    presence = controller.link.state[controller.link.topics.presence(device)]
    assert presence == m.Presence(state=m.PresenceState.STOPPED,
                                  role=m.Role(controller.config.device(device).role))  # type: ignore[union-attr]


async def test_a_wrong_password_fails_at_connect(fresh_broker: MosquittoProcess,
                                                 tmp_path: Path) -> None:
    code, out, _ = await check(settings_file(tmp_path, fresh_broker, "kiosk-1", "wrong"))
    assert code == 1
    assert "FAIL connect to 127.0.0.1" in out and "as kiosk-1 (kiosk)" in out
    assert "Not authorized" in out or "Bad user name or password" in out


async def test_no_controller_fails_naming_what_is_missing(fresh_broker: MosquittoProcess,
                                                          tmp_path: Path) -> None:
    code, out, err = await check(settings_file(tmp_path, fresh_broker, "kiosk-1"))
    assert code == 1
    assert "FAIL the controller is online (lobby/tianping/presence/controller): nothing " \
           "arrived" in out
    assert "FAIL the controller answers help: no reply within 3.0 s" in out  # the first
    assert "the controller answers issue" not in out  # not waited for again
    assert "FAIL the retained burst is complete: missing after 3.0 s: " \
           "lobby/tianping/state/summary" in out
    assert "ok   may publish lobby/tianping/presence/kiosk-1" in out
    assert "check(s) failed" in err


async def test_a_role_the_account_lacks_fails_on_its_grants(
        fresh_broker: MosquittoProcess, controller: Controller, tmp_path: Path) -> None:
    code, out, _ = await check(settings_file(tmp_path, fresh_broker, "kiosk-1"),
                               "--role", "manager")
    assert code == 1
    assert "FAIL may send end_day: PUBACK reason code 135" in out
    assert "ok   may send issue" in out
    assert "FAIL the controller accepts issue from kiosk-1: it answered" not in out


async def test_a_broken_retained_snapshot_is_named(
        fresh_broker: MosquittoProcess, controller: Controller, tmp_path: Path) -> None:
    topic = controller.link.topics.state(StateKind.COUNTER, "3")
    paused = await controller.execute("pause", m.Pause(id=new_command_id(), counter="3"))
    assert paused.ok and paused.result is not None
    await settled(fresh_broker, topic, status="paused")
    as_controller = connect(fresh_broker.broker_settings("controller"))
    try:
        as_controller.publish(topic, b'{"v":1,"counter":"3"}', retain=True)
    finally:
        as_controller.close()
    code, out, _ = await check(settings_file(tmp_path, fresh_broker, "display-lobby"))
    assert code == 1, out
    assert f"FAIL {topic} is valid: name: Field required" in out
    assert f"FAIL the retained burst is complete: missing after 3.0 s: {topic}" in out


async def test_a_bad_settings_file_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "kiosk.toml"
    path.write_text('[device]\nid = "kiosk 1"\nhall = "tianping"\n', encoding="utf-8")
    code, _, err = await check(path)
    assert code == 2
    assert "config error" in err and "device.id" in err
