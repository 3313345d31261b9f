"""The faults bench.faults injects, each while the hall's traffic runs. Each returns the
window it lasted (monotonic start and end) and notes on what it saw."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from bench.fault_traffic import Traffic, device_link, send
from bench.hallrig import HALL, Rig, fill
from protocol import messages as m
from protocol.link import Ack, Link, LinkError, Received, SyncClient, new_command_id
from protocol.topics import CONTROLLER_ID, HallTopics

RESTART_S = 2.0  # systemd's RestartSec for the broker and the controller units
TOPICS = HallTopics(HALL)


@dataclass
class Window:
    start: float
    end: float
    notes: dict[str, Any] = field(default_factory=dict)


@dataclass
class Env:
    rig: Rig
    traffic: Traffic
    stop_s: float
    midnight_wall: float = 0.0  # time.time() at which the controller's clock reads 00:00
    flood_rate: float = 20.0


async def broker_kill(env: Env) -> Window:
    start = time.monotonic()
    env.rig.broker.kill()
    await asyncio.sleep(RESTART_S)
    await asyncio.to_thread(env.rig.broker.start)
    return Window(start, time.monotonic())


async def broker_stop(env: Env) -> Window:
    pid = env.rig.broker.pid
    assert pid is not None
    start = time.monotonic()
    os.kill(pid, signal.SIGSTOP)
    try:
        await asyncio.sleep(env.stop_s)
    finally:
        os.kill(pid, signal.SIGCONT)
    return Window(start, time.monotonic())


async def controller_stop(env: Env) -> Window:
    start = time.monotonic()
    env.rig.controller.signal(signal.SIGSTOP)
    try:
        await asyncio.sleep(env.stop_s)
    finally:
        env.rig.controller.signal(signal.SIGCONT)
    return Window(start, time.monotonic())


async def controller_kill(env: Env) -> Window:
    start = time.monotonic()
    env.rig.controller.kill()
    await asyncio.sleep(RESTART_S)
    env.rig.controller.start()
    return Window(start, time.monotonic())


async def disk_full(env: Env) -> Window:
    start = time.monotonic()
    filler = await asyncio.to_thread(fill, env.rig.hall_dir)
    try:
        await asyncio.sleep(env.stop_s)
    finally:
        filler.unlink()
    window = Window(start, time.monotonic())
    window.notes["codes_during"] = _codes(env.traffic, window)
    window.notes["controller_alive_after"] = env.rig.controller.alive
    if not env.rig.controller.alive:  # it gave up: systemd would start it again
        env.rig.controller.start()
    return window


async def midnight(env: Env) -> Window:
    """Commands sent 1.5 s before the controller's midnight whose replies are taken as lost,
    retried with the same ids 1 s after it: each retry must get the same reply."""
    broker = env.rig.broker
    kiosk = device_link(broker, "kiosk-3", m.Role.KIOSK)
    caller = device_link(broker, "caller-4", m.Role.CALLER)
    await kiosk.start()
    await caller.start()
    try:
        await send(caller, "sign_in", m.SignIn(id=new_command_id(), staff_no="S004",
                                               pin="1234"), [])
        await _until(env.midnight_wall - 1.5)
        start = time.monotonic()
        commands: list[tuple[Link, str, m.Command]] = [
            (kiosk, "issue", m.IssueTicket(id=new_command_id(), service=s)) for s in "ABCD"]
        commands.append((caller, "call_next", m.CallNext(id=new_command_id())))
        first = await _all(commands)
        await _until(env.midnight_wall + 1.0)
        second = await _all(commands)
    finally:
        await kiosk.close()
        await caller.close()
    rerun = sum(1 for a, b in zip(first, second, strict=True)
                if a and b and a.model_copy(update={"clock": None})
                != b.model_copy(update={"clock": None}))  # the clock is when each was sent
    return Window(start, time.monotonic(), {
        "retried": len(commands), "rerun": rerun,
        "first": [_code(r) for r in first], "retry": [_code(r) for r in second]})


async def _all(commands: list[tuple[Link, str, m.Command]]) -> list[m.Reply | None]:
    async def one(link: Link, name: str, command: m.Command) -> m.Reply | None:
        try:
            return await link.request(name, command, timeout=1.0)
        except LinkError:
            return None
    return list(await asyncio.gather(*(one(*c) for c in commands)))


async def _until(wall: float) -> None:
    await asyncio.sleep(max(0.0, wall - time.time()))


def _code(reply: m.Reply | None) -> str:
    if reply is None:
        return "no reply"
    return reply.error.code.value if reply.error else "ok"


async def takeover(env: Env) -> Window:
    """A display keeps connecting with the controller's client id (taking over its session)."""
    seen: Counter[str] = Counter()

    def connected(reason: Ack) -> None:
        seen["connects" if not reason.is_failure else "refused"] += 1

    def message(msg: Received) -> None:
        if b"offline" in msg.payload:
            seen["controller_offline_seen"] += 1

    attacker = SyncClient(  # as eager to reconnect as the controller's own link
        env.rig.broker.broker_settings("display-lobby", lan=True), client_id=CONTROLLER_ID,
        session_expiry=3600, keepalive=15, reconnect_s=(1, 1), timeout=env.stop_s,
        follow=[TOPICS.presence(CONTROLLER_ID)], on_message=message, on_connack=connected)
    start = time.monotonic()
    with contextlib.suppress(LinkError):  # not even let in: the window says so
        await asyncio.to_thread(attacker.connect, retry=True)
    await asyncio.sleep(max(0.0, start + env.stop_s - time.monotonic()))
    attacker.close()
    return Window(start, time.monotonic(), dict(seen))


async def pin_flood(env: Env) -> Window:
    """caller-13 sends sign_in with wrong PINs at ``flood_rate`` a second."""
    replies: Counter[str] = Counter()
    flooder = SyncClient(
        env.rig.broker.broker_settings("caller-13", lan=True), client_id="caller-13",
        keepalive=15, follow=[TOPICS.reply("caller-13")],
        on_message=lambda msg: replies.update([_reply_code(msg.payload)]))
    reason = await asyncio.to_thread(flooder.connect)
    if reason.is_failure:
        raise LinkError(f"the broker refused caller-13: {reason}")
    count = int(env.stop_s * env.flood_rate)
    start = time.monotonic()
    for n in range(count):
        pin = f"{n % 10000:04d}" if n % 10000 != 1234 else "0000"
        cid = new_command_id()
        body = {"v": 1, "id": cid, "staff_no": "S013", "pin": pin}
        flooder.send(TOPICS.command("caller-13", "sign_in"), json.dumps(body),
                     response_topic=TOPICS.reply("caller-13"), correlation=cid.encode())
        await asyncio.sleep(max(0.0, start + (n + 1) / env.flood_rate - time.monotonic()))
    end = time.monotonic()
    await asyncio.sleep(0.5)
    flooder.close()
    return Window(start, end, {"sent": count, "replies": dict(replies)})


def _reply_code(payload: bytes) -> str:
    try:
        error = json.loads(payload).get("error")
    except (ValueError, AttributeError):
        return "unreadable"
    return str(error.get("code")) if isinstance(error, dict) else "ok"


def _codes(traffic: Traffic, window: Window) -> dict[str, int]:
    return dict(Counter(o.code for o in traffic.log
                        if window.start <= o.started <= window.end).most_common())


FAULTS: dict[str, Callable[[Env], Awaitable[Window]]] = {
    "broker-kill": broker_kill, "broker-stop": broker_stop,
    "controller-stop": controller_stop, "controller-kill": controller_kill,
    "disk-full": disk_full, "midnight": midnight, "takeover": takeover,
    "pin-flood": pin_flood}
