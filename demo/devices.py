"""Simulated devices of the demo hall. They talk to the controller only over MQTT, through
the same links, identity hashing and ticket printing the real devices use."""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from demo.clock import DemoClock, Governor
from demo.day import SERVICE_MIX, Break, Resident
from demo.tally import AT_WINDOW, NO_SHOW, NOT_SERVED, SERVED, Tally
from hardware.idcard import sample_card
from hardware.printer import PrinterError, PrinterStatus, SimulatedPrinter
from kiosk.identity import resident_from_card
from kiosk.ticket import printout_for
from protocol import messages as m
from protocol.link import Link, LinkError, new_command_id
from protocol.topics import StateKind

log = logging.getLogger(__name__)

NO_SHOW_SHARE = 0.04
RATED_SHARE = 0.6  # residents who press the evaluator after their service
RATINGS = {5: 0.78, 4: 0.18, 3: 0.04}
IDLE_RECHECK_S = 300.0  # an idle clerk presses next again at least this often (hall time)
RECALL_S = 60.0  # two recalls, then the clerk marks a no-show
HALL_STATE_WAIT_S = 10.0  # real seconds a kiosk waits for the hall's retained state
AT_KIOSK_S = 10.0  # hall seconds a resident spends swiping and choosing
CLERK_PIN = "1234"  # every clerk's PIN in examples/hall.toml


async def until_answered(link: Link, name: str, command: m.Command,
                         governor: Governor | None = None) -> m.Reply:
    """Retry the same command (same id) until the controller answers; the governor hears
    how long the answer took."""
    while True:
        began = time.monotonic()
        try:
            reply = await link.request(name, command, timeout=5.0)
        except LinkError as exc:
            log.info("%s: %s; retrying", link.device, exc)
            await asyncio.sleep(0.2)
            continue
        if governor is not None:
            governor.spent("command", time.monotonic() - began)
        return reply


def refusal(reply: m.Reply) -> str:
    return reply.error.code.value if reply.error else "no reason given"


@dataclass
class SimulatedKiosk:
    """Residents queue, swipe a card, pick a service (or check in for their appointment) and
    take the printed ticket, one at a time: rendering a ticket costs real CPU time, so a
    busy morning at a high speed makes a queue at the kiosks, not late print confirmations."""

    link: Link
    clock: DemoClock
    secret: bytes
    tally: Tally
    governor: Governor
    printer: SimulatedPrinter = field(default_factory=SimulatedPrinter)
    queue: int = 0  # residents at this kiosk or queueing for it
    _turn: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def in_service(self) -> bool:
        """Paper low takes a kiosk out of service (the real kiosk's default)."""
        return self.printer.status() is PrinterStatus.OK

    def set_paper_low(self, low: bool) -> None:
        """The roll reaches its near end (or is replaced): the kiosk says so, as a real one."""
        if low:
            self.printer.paper_low()
        else:
            self.printer.refill()
        health = m.PrinterHealth.PAPER_LOW if low else m.PrinterHealth.OK
        self.link.publish(self.link.topics.health(self.link.device), m.DeviceHealth(
            ok=not low, printer=health, reader=True, at=self.clock.now()), retain=True)

    async def serve(self, resident: Resident) -> bool:
        """One resident's turn at this kiosk: False if it is out of service when it comes,
        else it ends with a ticket, a refusal or the resident leaving."""
        self.queue += 1
        try:
            async with self._turn:
                if not self.in_service:
                    return False
                await self.clock.sleep(AT_KIOSK_S)
                await self._take_ticket(resident)
                return True
        finally:
            self.queue -= 1

    async def _take_ticket(self, resident: Resident) -> None:
        hall = await self._hall_state()
        if hall is None:
            self.tally.leave("kiosk not ready")
            return
        card = sample_card(birth_date=resident.born, serial=resident.serial)
        person = resident_from_card(card, self.secret, self.clock.now().date(), hall.green_age)
        del card  # nothing of the card leaves this function but the keyed hash
        command = m.IssueTicket(id=new_command_id(), service=resident.service,
                                id_hash=person.id_hash, green=person.green,
                                appointment=resident.slot is not None)
        reply = await self._ask("issue", command)
        if not reply.ok or reply.result is None:
            log.info("%s: resident %d refused: %s", self.link.device, resident.serial,
                     reply.error.message if reply.error else "")
            self.tally.refuse(refusal(reply))
            return
        view = m.TicketView.model_validate(reply.result["ticket"])
        self.tally.numbered(view.number)
        try:
            began = time.monotonic()
            await asyncio.to_thread(self.printer.print_ticket, printout_for(view, hall))
            self.governor.spent("print", time.monotonic() - began)
        except PrinterError as exc:
            log.warning("%s: print failed: %s", self.link.device, exc)
            await self._ask("void", m.VoidTicket(
                id=new_command_id(), ticket=view.ticket, reason="print failed"))
            self.tally.leave("print failed")
            return
        confirmed = await self._ask(
            "printed", m.TicketPrinted(id=new_command_id(), ticket=view.ticket))
        if not confirmed.ok:
            self.tally.leave(f"print not confirmed ({refusal(confirmed)})")
            return
        self.tally.issue(view.ticket, view.issued_at.timestamp())

    async def _ask(self, name: str, command: m.Command) -> m.Reply:
        return await until_answered(self.link, name, command, self.governor)

    async def _hall_state(self) -> m.HallState | None:
        topic = self.link.topics.state(StateKind.HALL)
        for _ in range(int(HALL_STATE_WAIT_S / 0.1)):
            hall = self.link.state.get(topic)
            if isinstance(hall, m.HallState):
                return hall
            await asyncio.sleep(0.1)
        return None


@dataclass
class Manager:
    """The hall manager's commands the demo day needs: windows closed over lunch, opened
    after, and today's appointments booked (as the city's booking service would)."""

    link: Link
    upstream: Link

    async def set_open(self, counter: str, open_: bool) -> None:
        command: m.Command = (m.OpenCounter if open_ else m.CloseCounter)(
            id=new_command_id(), counter=counter)
        reply = await until_answered(self.link, "open_counter" if open_ else "close_counter",
                                     command)
        if not reply.ok:
            log.warning("%s counter %s: %s", "open" if open_ else "close", counter,
                        reply.error)

    async def end_day(self) -> None:
        """Close the day: the hall cancels every ticket still open."""
        await until_answered(self.link, "end_day", m.EndDay(id=new_command_id()))

    async def book(self, id_hash: str, service: str, slot: datetime) -> bool:
        reply = await until_answered(self.upstream, "book", m.BookAppointment(
            id=new_command_id(), id_hash=id_hash, service=service, slot=slot))
        if not reply.ok:
            log.warning("booking refused: %s", reply.error)
        return reply.ok


@dataclass
class SimulatedCounter:
    """A clerk at a window: signs in, presses next, serves for a lognormal time (sometimes
    calls a no-show), goes to lunch or pauses as the day's plan says, and the resident
    sometimes rates the service.

    An idle clerk watches the window's screen (the retained service states) and presses
    next again when someone waits for one of the window's services, or after IDLE_RECHECK_S
    of hall time: pressing every few seconds would flood the controller's journal with
    refusals at the demo's speed."""

    link: Link
    counter_id: str
    staff_no: str
    clock: DemoClock
    rng: random.Random
    tally: Tally
    manager: Manager
    governor: Governor
    breaks: list[Break] = field(default_factory=list)
    bad_rating_after: datetime | None = None
    in_hand: bool = False  # a resident called and not yet counted as served or a no-show
    _news: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self.link.on_message(lambda _inbound: self._news.set())

    async def sign_in(self) -> None:
        reply = await until_answered(self.link, "sign_in", m.SignIn(  # PIN hashing: ungoverned
            id=new_command_id(), staff_no=self.staff_no, pin=CLERK_PIN))
        if not reply.ok:
            raise RuntimeError(f"clerk {self.staff_no} could not sign in at window "
                               f"{self.counter_id}: {reply.error}")

    async def sign_out(self) -> None:
        await self._ask("sign_out", m.SignOut(id=new_command_id()))

    async def run(self) -> None:
        """Press next all day (the clerk has signed in)."""
        while True:
            await self._take_breaks()
            self._news.clear()
            reply = await self._ask("call_next", m.CallNext(id=new_command_id()))
            called = (reply.result or {}).get("called") if reply.ok else None
            if not called:
                await self._wait_for_someone()
                continue
            self.in_hand = True
            self.tally.move(called["ticket"], AT_WINDOW)
            await self._serve(called)
            self.in_hand = False

    async def _serve(self, called: dict[str, Any]) -> None:
        """Serve the resident called (or mark them a no-show); a ticket the hall closed
        meanwhile (the day closed itself) is not served."""
        ticket = called["ticket"]
        if self.rng.random() < NO_SHOW_SHARE:
            await self.clock.sleep(RECALL_S)
            reply = await self._ask("no_show", m.NoShow(id=new_command_id()))
            self.tally.move(ticket, NO_SHOW if reply.ok else NOT_SERVED)
            return
        await self.clock.sleep(self._service_seconds(called["service"]))
        reply = await self._ask("done", m.Done(id=new_command_id()))
        self.tally.move(ticket, SERVED if reply.ok else NOT_SERVED)
        if not reply.ok:
            return
        rating = self._rating()
        if rating is not None:
            await self._ask("evaluate", m.Evaluate(
                id=new_command_id(), rating=rating, ticket=ticket))

    def _rating(self) -> m.Rating | None:
        if self.bad_rating_after is not None and self.clock.now() >= self.bad_rating_after:
            self.bad_rating_after = None
            return m.Rating.VERY_DISSATISFIED
        if self.rng.random() >= RATED_SHARE:
            return None
        return m.Rating(self.rng.choices(list(RATINGS), list(RATINGS.values()))[0])

    async def _take_breaks(self) -> None:
        """A break that has begun: lunch (signed out, window closed) or a pause."""
        now = self.clock.now()
        while self.breaks and self.breaks[0].start <= now:
            pause = self.breaks.pop(0)
            if pause.end <= now:
                continue
            if pause.lunch:  # never open without a clerk: the hall would alert
                await self.manager.set_open(self.counter_id, False)
                await self.sign_out()
                until = pause.end
            else:  # as long as planned, from when the resident in hand has gone
                await self._ask("pause", m.Pause(id=new_command_id()))
                until = self.clock.now() + (pause.end - pause.start)
            await self.clock.sleep_until(until)
            if pause.lunch:
                await self.sign_in()
                await self.manager.set_open(self.counter_id, True)
            else:
                await self._ask("resume", m.Resume(id=new_command_id()))
            now = self.clock.now()

    async def _wait_for_someone(self) -> None:
        """Until the screen has changed since the last press and shows someone waiting, or
        a break is due."""
        recheck = IDLE_RECHECK_S
        if self.breaks:
            recheck = min(recheck, (self.breaks[0].start - self.clock.now()).total_seconds())
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.clock.real_seconds(recheck)
        while True:
            try:
                await asyncio.wait_for(self._news.wait(), max(0.0, deadline - loop.time()))
            except TimeoutError:
                return
            self._news.clear()
            if self._someone_waiting():
                return

    async def _ask(self, name: str, command: m.Command) -> m.Reply:
        return await until_answered(self.link, name, command, self.governor)

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


def follow_hall(display: Link, manager: Link, tally: Tally) -> None:
    """The lobby display's view (every call in order, and the wait it ended) and the
    manager's (the alerts)."""

    def on_display(inbound: object) -> None:
        payload = getattr(inbound, "payload", None)
        if isinstance(payload, m.CallEvent):
            tally.heard_call(payload)

    def on_manager(inbound: object) -> None:
        payload = getattr(inbound, "payload", None)
        if isinstance(payload, m.Alert):
            tally.heard_alert(payload)

    display.on_message(on_display)
    manager.on_message(on_manager)
