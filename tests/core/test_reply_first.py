"""A command's reply goes out as soon as its commit is done, before the retained state and
the events it changed: the sender waits for the journal and nothing else. Seen from outside,
as another client would see it: mosquitto_sub on the sender's own account, following its
reply topic and the state and events the command changes, prints them in the order the
broker got them."""

from __future__ import annotations

import asyncio
import subprocess
import threading

import pytest

from broker_config.process import MosquittoProcess
from hall import controller as controller_module
from hall.controller import Controller
from hall.engine.engine import HallEngine
from hall.engine.projection import Projection
from hall.intake import Request
from protocol import messages as m
from protocol.link import Link, new_command_id
from protocol.topics import CONTROLLER_ID, EventKind, HallTopics, StateKind

HALL = "tianping"
T = HallTopics(HALL)
WAIT_S = 10


class Observer:
    """mosquitto_sub (MQTT 5, QoS 1) on a device's account, printing each new message's topic."""

    def __init__(self, broker: MosquittoProcess, account: str, topics: list[str]) -> None:
        settings = broker.broker_settings(account)
        self.argv = ["mosquitto_sub", "-V", "mqttv5", "-q", "1", "-h", settings.host,
                     "-p", str(settings.port), "-u", account, "-P", str(settings.password),
                     "-i", f"{account}-observer", "-F", "%t %r",
                     *(a for t in topics for a in ("-t", t))]
        self.sub: asyncio.subprocess.Process | None = None

    async def start(self, first: str) -> None:
        """Subscribe; ``first`` is a retained topic: once it is in, every subscription is."""
        self.sub = await asyncio.create_subprocess_exec(
            *self.argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        while (await self.line()) != (first, "1"):
            pass

    async def line(self) -> tuple[str, str]:
        assert self.sub is not None and self.sub.stdout is not None
        raw = await asyncio.wait_for(self.sub.stdout.readline(), WAIT_S)
        assert raw, "mosquitto_sub ended"
        topic, retained = raw.decode().split()
        return topic, retained

    async def until(self, topic: str) -> list[str]:
        """The topics of the new (not retained) messages, up to and with ``topic``."""
        seen: list[str] = []
        while not seen or seen[-1] != topic:
            got, retained = await self.line()
            if retained == "0":
                seen.append(got)
        return seen

    async def close(self) -> None:
        if self.sub is not None and self.sub.returncode is None:
            self.sub.terminate()
            await self.sub.wait()


@pytest.mark.parametrize(("account", "role", "command_name"), [
    ("kiosk-1", m.Role.KIOSK, "issue"),
    ("caller-1", m.Role.CALLER, "call_next"),
])
async def test_the_reply_goes_out_before_what_the_command_changed(
        fresh_broker: MosquittoProcess, controller: Controller, account: str, role: m.Role,
        command_name: str) -> None:
    kiosk = Link(fresh_broker.broker_settings("kiosk-1"), HALL, "kiosk-1", m.Role.KIOSK)
    sender = kiosk if account == "kiosk-1" else Link(
        fresh_broker.broker_settings(account), HALL, account, role)
    await kiosk.start()
    if sender is not kiosk:
        await sender.start()
    changed = [T.state(StateKind.SERVICE, "A"), T.state(StateKind.COUNTER, "1"),
               T.state(StateKind.CALLS), T.event(EventKind.CALL)]
    observer = Observer(fresh_broker, account, [T.reply(account), *changed])
    try:
        ticket = await kiosk.request("issue", m.IssueTicket(id=new_command_id(), service="A"))
        assert ticket.ok and ticket.result, ticket.error
        printed = await kiosk.request("printed", m.TicketPrinted(
            id=new_command_id(), ticket=ticket.result["ticket"]["ticket"]))
        assert printed.ok, printed.error
        await observer.start(T.state(StateKind.SERVICE, "A"))
        command: m.Command = (m.IssueTicket(id=new_command_id(), service="A")
                              if command_name == "issue" else m.CallNext(id=new_command_id()))
        reply = await sender.request(command_name, command)
        assert reply.ok, reply.error
        before = await observer.until(T.reply(account))
        assert before == [T.reply(account)], f"published before the reply: {before[:-1]}"
        after = await observer.until(T.state(StateKind.SERVICE, "A"))
        assert T.state(StateKind.SERVICE, "A") in after  # and what it changed follows
    finally:
        await observer.close()
        await kiosk.close()
        if sender is not kiosk:
            await sender.close()


async def test_the_reply_is_on_the_wire_before_the_projection_catches_up(
        fresh_broker: MosquittoProcess, controller: Controller,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """After a reply the writer brings the waits up to date (1-2 ms at 2,000 waiting) before
    its loop turns again: the reply must not wait for that. Here the projection holds the
    loop until an observer has the reply, which only a reply already written can reach."""
    kiosk = Link(fresh_broker.broker_settings("kiosk-1"), HALL, "kiosk-1", m.Role.KIOSK)
    await kiosk.start()
    argv = Observer(fresh_broker, "kiosk-1", [T.presence(CONTROLLER_ID), T.reply("kiosk-1")]).argv
    observer = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                text=True)
    subscribed, replied = threading.Event(), threading.Event()

    def watch() -> None:
        assert observer.stdout is not None
        for line in observer.stdout:
            subscribed.set()  # the retained presence: both subscriptions are up
            if line.split() == [T.reply("kiosk-1"), "0"]:
                replied.set()

    answered: list[str] = []
    in_time: list[bool] = []
    real_answer, real_project = controller._answer, controller_module.project

    def answer(request: Request, reply: m.Reply) -> None:
        real_answer(request, reply)
        answered.append(request.name)

    def project(engine: HallEngine, now: float) -> Projection:
        if answered and not in_time:  # the catch-up after the reply
            in_time.append(replied.wait(WAIT_S))  # holds the controller's loop meanwhile
        return real_project(engine, now)

    threading.Thread(target=watch, daemon=True).start()
    try:
        assert await asyncio.to_thread(subscribed.wait, WAIT_S)
        monkeypatch.setattr(controller, "_answer", answer)
        monkeypatch.setattr(controller_module, "project", project)
        monkeypatch.setattr(controller_module, "SYNC_PROJECTION_S", 60.0)  # always at once
        reply = await kiosk.request("issue", m.IssueTicket(id=new_command_id(), service="A"),
                                    timeout=3 * WAIT_S)
        assert reply.ok, reply.error
        assert in_time == [True], "the reply waited for the projection"
    finally:
        observer.terminate()
        observer.wait()
        await kiosk.close()
