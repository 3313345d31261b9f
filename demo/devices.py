"""Simulated devices of the demo hall. They talk to the controller only over MQTT, through
the same links, identity hashing and ticket printing the real devices use."""

from __future__ import annotations

import asyncio
import logging
import math
import random
from dataclasses import dataclass, field
from datetime import date

from hall.clock import AcceleratedClock
from hardware.idcard import sample_card
from hardware.printer import SimulatedPrinter
from kiosk.identity import resident_from_card
from kiosk.ticket import printout_for
from protocol import messages as m
from protocol.link import Link, LinkError, new_command_id
from protocol.topics import StateKind

log = logging.getLogger(__name__)

# Shares and mean service minutes of the example hall (domain.md's planning model).
SERVICE_MIX = {"A": (0.24, 9), "B": (0.18, 7), "C": (0.10, 12), "D": (0.08, 10),
               "E": (0.16, 8), "F": (0.14, 5), "G": (0.10, 11)}
NO_SHOW = 0.04
IDLE_RECHECK_S = 300.0  # an idle clerk presses next again at least this often (hall time)
GREEN_AGE_SHARE = 0.08


@dataclass
class Tally:
    """What the devices saw, for the summary line."""

    issued: int = 0
    refused: int = 0
    called: int = 0
    served: int = 0
    no_shows: int = 0
    waits_min: list[float] = field(default_factory=list)
    issued_at: dict[str, float] = field(default_factory=dict)  # ticket id -> virtual epoch s
    last_seq: int = 0
    seq_gaps: int = 0


async def until_answered(link: Link, name: str, command: m.Command) -> m.Reply:
    """Retry the same command (same id) until the controller answers."""
    while True:
        try:
            return await link.request(name, command, timeout=2.0)
        except LinkError as exc:
            log.info("%s: %s; retrying", link.device, exc)
            await asyncio.sleep(0.5)


@dataclass
class SimulatedKiosk:
    """Residents swipe a card, pick a service, take the printed ticket."""

    link: Link
    clock: AcceleratedClock
    secret: bytes
    rng: random.Random
    tally: Tally
    printer: SimulatedPrinter = field(default_factory=SimulatedPrinter)

    async def serve_resident(self, serial: int) -> None:
        today = self.clock.now().date()
        old = self.rng.random() < GREEN_AGE_SHARE
        born = date(today.year - (self.rng.randint(70, 90) if old else self.rng.randint(20, 69)),
                    self.rng.randint(1, 12), self.rng.randint(1, 28))
        hall = self.link.state.get(self.link.topics.state(StateKind.HALL))
        if not isinstance(hall, m.HallState):
            return
        card = sample_card(birth_date=born, serial=serial)
        resident = resident_from_card(card, self.secret, today, hall.green_age)
        del card  # nothing of the card leaves this function but the keyed hash
        service = self.rng.choices(list(SERVICE_MIX), [w for w, _ in SERVICE_MIX.values()])[0]
        command = m.IssueTicket(id=new_command_id(), service=service, id_hash=resident.id_hash,
                                green=resident.green)
        reply = await until_answered(self.link, "issue", command)
        if not reply.ok or reply.result is None:
            self.tally.refused += 1
            return
        view = m.TicketView.model_validate(reply.result["ticket"])
        printout = printout_for(view, hall)
        await asyncio.get_running_loop().run_in_executor(None, self.printer.print_ticket, printout)
        confirmed = await until_answered(
            self.link, "printed", m.TicketPrinted(id=new_command_id(), ticket=view.ticket))
        if not confirmed.ok:
            self.tally.refused += 1
            return
        self.tally.issued += 1
        self.tally.issued_at[view.ticket] = view.issued_at.timestamp()


@dataclass
class SimulatedCounter:
    """A clerk pressing next, serving for a lognormal time, sometimes calling a no-show.

    An idle clerk watches the counter's screen (the retained service states) and presses
    next again when someone waits for one of the counter's services, or after IDLE_RECHECK_S
    of hall time: pressing every few seconds would flood the controller's journal with
    refusals at the demo's speed."""

    link: Link
    counter_id: str
    clock: AcceleratedClock
    rng: random.Random
    tally: Tally
    in_hand: bool = False  # a resident called and not yet counted as served or a no-show
    _news: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self.link.on_message(lambda _inbound: self._news.set())

    async def run(self) -> None:
        while True:
            self._news.clear()
            reply = await until_answered(self.link, "call_next", m.CallNext(id=new_command_id()))
            called = (reply.result or {}).get("called") if reply.ok else None
            if not called:
                await self._wait_for_someone()
                continue
            self.in_hand = True
            if self.rng.random() < NO_SHOW:
                await self._wait_virtual(60)  # two recalls, then skip
                await until_answered(self.link, "no_show", m.NoShow(id=new_command_id()))
                self.tally.no_shows += 1
            else:
                await self._wait_virtual(self._service_seconds(called["service"]))
                await until_answered(self.link, "done", m.Done(id=new_command_id()))
                self.tally.served += 1
            self.in_hand = False

    async def _wait_for_someone(self) -> None:
        """Until the screen has changed since the last press and shows someone waiting."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + IDLE_RECHECK_S / self.clock.factor
        while True:
            try:
                await asyncio.wait_for(self._news.wait(), max(0.0, deadline - loop.time()))
            except TimeoutError:
                return
            self._news.clear()
            if self._someone_waiting():
                return

    def _someone_waiting(self) -> bool:
        topics = self.link.topics
        mine = self.link.state.get(topics.state(StateKind.COUNTER, self.counter_id))
        if not isinstance(mine, m.CounterState):
            return True  # not known yet: ask the controller
        return any(isinstance(state, m.ServiceState) and state.waiting > 0
                   and ("*" in mine.services or state.service in mine.services)
                   for state in list(self.link.state.values()))

    def _service_seconds(self, service: str) -> float:
        mean = SERVICE_MIX[service][1] * 60
        sigma = math.sqrt(math.log(1 + 0.6**2))
        return self.rng.lognormvariate(math.log(mean) - sigma**2 / 2, sigma)

    async def _wait_virtual(self, seconds: float) -> None:
        await asyncio.sleep(seconds / self.clock.factor)


def follow_calls(display: Link, tally: Tally) -> None:
    """The lobby display's view: every call in order, and the wait it ended."""

    def on_message(inbound: object) -> None:
        call = getattr(inbound, "payload", None)
        if not isinstance(call, m.CallEvent):
            return
        if tally.last_seq and call.seq != tally.last_seq + 1:
            tally.seq_gaps += 1
        tally.last_seq = call.seq
        if call.recall:
            return
        tally.called += 1
        issued = tally.issued_at.get(call.ticket)
        if issued is not None:
            tally.waits_min.append((call.at.timestamp() - issued) / 60)

    display.on_message(on_message)
