"""Devices with a resident's patience, for bench.faults: kiosks issue and confirm the print,
counters sign in and call next, each command retried with its own id until answered or
until the device gives up on it (then it is recorded as failed, and must never take effect).
A manager's probe measures when the hall answers again."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from broker_config.process import MosquittoProcess
from protocol import messages as m
from protocol.link import Link, LinkError, NotConnected, new_command_id

GIVE_UP_S = 5.0  # a device's patience for one command
ATTEMPT_S = 1.0  # each try's timeout (the link gives it the same MQTT message expiry)
PACE_S = 0.2  # between a device's commands
KIOSKS = {"kiosk-1": "ABE", "kiosk-2": "FGA"}
COUNTERS = {"caller-1": "S001", "caller-2": "S002", "caller-3": "S003"}
PIN = "1234"  # every example clerk's PIN


@dataclass
class Outcome:
    """One command as its sender saw it."""

    device: str
    name: str
    id: str
    started: float  # monotonic
    ended: float  # monotonic: the answer, or the moment the device gave up
    ended_wall: float  # time.time() of the same moment
    reply: m.Reply | None  # None: the device gave up

    @property
    def ok(self) -> bool:
        return self.reply is not None and self.reply.ok

    @property
    def latency_ms(self) -> float:
        return (self.ended - self.started) * 1000

    @property
    def ticket(self) -> str | None:
        """The ticket an issue was told, or a call_next called."""
        if not self.ok or self.reply is None or not self.reply.result:
            return None
        found = self.reply.result.get("ticket" if self.name == "issue" else "called")
        return str(found["ticket"]) if isinstance(found, dict) else None

    @property
    def code(self) -> str:
        if self.reply is None:
            return "gave_up"
        return self.reply.error.code.value if self.reply.error else "ok"


async def send(link: Link, name: str, command: m.Command, log: list[Outcome],
               give_up_s: float = GIVE_UP_S) -> Outcome:
    """Send until answered (same id each time) or until ``give_up_s`` has passed."""
    started = time.monotonic()
    deadline = started + give_up_s
    reply: m.Reply | None = None
    while (left := deadline - time.monotonic()) > 0:
        try:
            reply = await link.request(name, command, timeout=min(ATTEMPT_S, left))
            break
        except NotConnected:
            await asyncio.sleep(0.05)
        except LinkError:
            continue
    outcome = Outcome(link.device, name, command.id, started, time.monotonic(), time.time(),
                      reply)
    log.append(outcome)
    return outcome


Running = Callable[[], bool | None]  # True: go on; None: hold (between commands); False: end


async def kiosk_loop(link: Link, services: str, log: list[Outcome],
                     running: Running) -> None:
    n = 0
    while running() is not False:
        if running() is None:
            await asyncio.sleep(0.05)
            continue
        n += 1
        issued = await send(link, "issue", m.IssueTicket(id=new_command_id(),
                                                         service=services[n % len(services)]),
                            log)
        if issued.ticket is not None:
            await send(link, "printed", m.TicketPrinted(id=new_command_id(),
                                                         ticket=issued.ticket), log)
        await asyncio.sleep(PACE_S)


async def counter_loop(link: Link, staff_no: str, log: list[Outcome],
                       running: Running) -> None:
    signed_in = False
    while running() is not False:
        if running() is None:
            await asyncio.sleep(0.05)
            continue
        if not signed_in:
            signed = await send(link, "sign_in", m.SignIn(id=new_command_id(), staff_no=staff_no,
                                                          pin=PIN), log)
            signed_in = signed.ok
        called = await send(link, "call_next", m.CallNext(id=new_command_id()), log)
        if called.code == "sign_in_required":
            signed_in = False
        await asyncio.sleep(PACE_S)


def device_link(broker: MosquittoProcess, device: str, role: m.Role) -> Link:
    """A device's link over the hall's LAN listener, as a real device connects."""
    return Link(broker.broker_settings(device, lan=True), "tianping", device, role)


@dataclass
class Traffic:
    """Two kiosks and three counters running until stopped, and the manager's probe."""

    broker: MosquittoProcess
    log: list[Outcome] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    probe: Link | None = None
    observer: Link | None = None  # a counter display's view of the retained state
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _running: bool | None = True

    async def start(self) -> None:
        self.probe = device_link(self.broker, "manager", m.Role.MANAGER)
        await self.probe.start()
        self.observer = Link(self.broker.broker_settings("display-w1", lan=True), "tianping",
                             "display-w1", m.Role.DISPLAY)
        self.observer.follow = [self.observer.topics.all_state]
        await self.observer.start()
        running = lambda: self._running  # noqa: E731
        for device, services in KIOSKS.items():
            link = device_link(self.broker, device, m.Role.KIOSK)
            await link.start()
            self.links.append(link)
            self._tasks.append(asyncio.create_task(
                kiosk_loop(link, services, self.log, running)))
        for device, staff_no in COUNTERS.items():
            link = device_link(self.broker, device, m.Role.CALLER)
            await link.start()
            self.links.append(link)
            self._tasks.append(asyncio.create_task(
                counter_loop(link, staff_no, self.log, running)))

    async def answered(self, cap_s: float) -> float | None:
        """Seconds until the probe's fresh command first gets an ok reply (None: not within
        ``cap_s``)."""
        assert self.probe is not None
        began = time.monotonic()
        while time.monotonic() - began < cap_s:
            try:
                reply = await self.probe.request(
                    "set_notice", m.SetNotice(id=new_command_id(), text=""), timeout=0.5)
            except NotConnected:
                await asyncio.sleep(0.02)
                continue
            except LinkError:
                continue
            if reply.ok:
                return time.monotonic() - began
            await asyncio.sleep(0.05)
        return None

    async def hold(self) -> None:
        """Stop sending new commands; return once every device has its last answer."""
        self._running = None
        busy = len(self.log)
        deadline = time.monotonic() + GIVE_UP_S + 1
        while time.monotonic() < deadline:  # a device between commands sends none for PACE_S
            await asyncio.sleep(PACE_S + 0.1)
            if len(self.log) == busy:
                return
            busy = len(self.log)

    def go_on(self) -> None:
        self._running = True

    def state(self) -> dict[str, dict[str, object]]:
        """The retained state the observer holds, without times and estimates, and without
        the alert board (what the controller has observed since it started, not the
        journal's state)."""
        assert self.observer is not None
        return {topic: _plain(message.model_dump(mode="json"))
                for topic, message in self.observer.state.items()
                if "/summary" not in topic and not isinstance(message, m.AlertsState)}

    async def stop(self) -> None:
        self._running = False
        for task in self._tasks:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, GIVE_UP_S + 2)
        for link in [*self.links, *(x for x in (self.probe, self.observer) if x)]:
            await link.close()


_VOLATILE = {"updated", "at", "estimated_wait_min", "longest_wait_min", "rev"}  # rev: when sent


def _plain(value: dict[str, object]) -> dict[str, object]:
    return {k: _plain(v) if isinstance(v, dict) else
            [_plain(x) if isinstance(x, dict) else x for x in v] if isinstance(v, list) else v
            for k, v in value.items() if k not in _VOLATILE}
