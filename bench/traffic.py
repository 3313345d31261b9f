"""Steady hall traffic over MQTT that survives a controller crash: kiosks issue and
confirm printing, counters call next, every command retried with its own id until answered.
Used by the crash test and by bench.recovery."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from broker_config.process import MosquittoProcess
from protocol import messages as m
from protocol.link import Link, LinkError, new_command_id

HALL = "tianping"
RETRY_TIMEOUT_S = 0.5


@dataclass
class Ledger:
    """What the devices were told: the ground truth a crash must not contradict."""

    confirmed: dict[str, str] = field(default_factory=dict)  # command id -> ticket number
    called: list[tuple[str, str]] = field(default_factory=list)  # (counter, ticket number)
    answered_at: list[float] = field(default_factory=list)  # perf_counter of every reply


async def until_answered(link: Link, name: str, command: m.Command, ledger: Ledger,
                         running: Callable[[], bool]) -> m.Reply | None:
    """Send ``command`` until the controller answers it (same id every time)."""
    while running():
        try:
            reply = await link.request(name, command, timeout=RETRY_TIMEOUT_S)
        except LinkError:
            continue
        ledger.answered_at.append(time.perf_counter())
        return reply
    return None


async def kiosk_loop(link: Link, services: str, ledger: Ledger,
                     running: Callable[[], bool]) -> None:
    n = 0
    while running():
        n += 1
        issue = m.IssueTicket(id=new_command_id(), service=services[n % len(services)])
        reply = await until_answered(link, "issue", issue, ledger, running)
        if reply is None or not reply.ok or reply.result is None:
            continue
        ticket = reply.result["ticket"]
        ledger.confirmed[issue.id] = ticket["number"]
        done = m.TicketPrinted(id=new_command_id(), ticket=ticket["ticket"])
        await until_answered(link, "printed", done, ledger, running)


async def counter_loop(link: Link, counter: str, clerk: str, ledger: Ledger,
                       running: Callable[[], bool]) -> None:
    """The example hall's ``clerk`` (PIN 1234) signs in, then presses next again and again."""
    await until_answered(link, "sign_in", m.SignIn(id=new_command_id(), staff_no=clerk,
                                                   pin="1234"), ledger, running)
    while running():
        reply = await until_answered(link, "call_next", m.CallNext(id=new_command_id()),
                                     ledger, running)
        if reply is not None and reply.ok and reply.result and reply.result["called"]:
            ledger.called.append((counter, reply.result["called"]["number"]))
        elif reply is not None:
            await asyncio.sleep(0.02)  # nobody waiting: the clerk looks up before pressing again


@dataclass
class Traffic:
    """Two kiosks and three counters running until stopped."""

    broker: MosquittoProcess
    ledger: Ledger = field(default_factory=Ledger)
    links: list[Link] = field(default_factory=list)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _running: bool = True

    async def start(self) -> None:
        for device, role in (("kiosk-1", m.Role.KIOSK), ("kiosk-2", m.Role.KIOSK),
                             ("caller-1", m.Role.CALLER), ("caller-10", m.Role.CALLER),
                             ("caller-11", m.Role.CALLER)):
            link = Link(self.broker.broker_settings(device), HALL, device, role)
            await link.start()
            self.links.append(link)
        running = lambda: self._running  # noqa: E731
        k1, k2, c1, c10, c11 = self.links
        self._tasks = [
            asyncio.create_task(kiosk_loop(k1, "ABE", self.ledger, running)),
            asyncio.create_task(kiosk_loop(k2, "FGA", self.ledger, running)),
            asyncio.create_task(counter_loop(c1, "1", "S001", self.ledger, running)),
            asyncio.create_task(counter_loop(c10, "10", "S002", self.ledger, running)),
            asyncio.create_task(counter_loop(c11, "11", "S003", self.ledger, running)),
        ]

    async def stop(self) -> None:
        self._running = False
        for task in self._tasks:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, 5)
        for link in self.links:
            await link.close()
