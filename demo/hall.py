"""The simulated hall's run: brokers, the controller and its web app, the devices, and the
days one after another (the clock skips the night)."""

from __future__ import annotations

import asyncio
import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from broker_config.process import MosquittoProcess
from demo.clock import DemoClock, Governor
from demo.day import DayPlan, Resident, plan_day
from demo.devices import Manager, SimulatedCounter, SimulatedKiosk, follow_hall
from demo.hallfiles import EXAMPLE_HALL, write_hall_config
from demo.nearby import NearbyCentres
from demo.summary import Output, figures, nearby_text
from demo.tally import DayTotals, Tally
from hall.controller import Controller
from hallconfig import HallConfig, load_hall_config, load_secret
from hardware.idcard import sample_card
from hardware.printer import SimulatedPrinter
from kiosk.identity import resident_from_card
from protocol import messages as m
from protocol.link import Link
from protocol.topics import EventKind, HallTopics, StateKind
from web.accounts import Account, WebRole, hash_password, save_accounts
from web.app import WebServers, default_managers_path, start_web
from web.hallview import HallView
from web.settings import state_dir, web_broker

BEFORE_OPENING = timedelta(minutes=5)  # the demo starts each day this long before opening
LAST_CALL = time(23, 50)  # tickets still open then are not served (the day is ended), if
# the hall has not closed the day itself by then (its close_grace_min after closing time)
POLL_S = 0.05  # real seconds between looks at whether the day is over
MAX_SPEED = 3600.0
# The governor keeps a print within 15 hall seconds; the config's longest confirmation
# window leaves room for the machine's hiccups (at 600x it is one real second).
PENDING_PRINT_S = 600


@dataclass(frozen=True, slots=True)
class DemoOptions:
    speed: float
    hours: float
    arrivals: int
    days: int
    seed: int
    port: int


def first_opening(config: HallConfig, today: date) -> datetime:
    """Opening time on the first weekday (not a holiday) from ``today``."""
    day = today
    while day.weekday() >= 5 or day in config.hours.holidays or not config.hours.for_day(day):
        day += timedelta(days=1)
    opens = config.hours.for_day(day)
    assert opens is not None
    return datetime.combine(day, opens[0], ZoneInfo(config.hall.timezone))


@dataclass
class Devices:
    """The simulated devices of the hall, linked to its broker."""

    kiosks: list[SimulatedKiosk]
    counters: list[SimulatedCounter]
    manager: Manager
    links: list[Link] = field(default_factory=list)

    async def close(self) -> None:
        for link in self.links:
            await link.close()


Planner = Callable[[datetime, float, int, random.Random, int], DayPlan]


class DemoHall:
    """Everything of one demo run; ``run()`` plays the days and returns their totals."""

    def __init__(self, options: DemoOptions, workdir: Path, output: Output,
                 planner: Planner = plan_day) -> None:
        self.options = options
        self.planner = planner
        self.workdir = workdir
        self.output = output
        self.config = load_hall_config(EXAMPLE_HALL)
        self.tally = Tally()
        self.rng = random.Random(options.seed)
        self.web: WebServers | None = None
        self.view: HallView | None = None

    async def run(self) -> list[DayTotals]:
        broker = MosquittoProcess(self.config, self.workdir / "broker")
        nearby = NearbyCentres(self.config, self.workdir / "city",
                               random.Random(self.options.seed + 2))
        nearby.start(broker)
        broker.start()
        tasks: list[asyncio.Task[None]] = []
        controller: Controller | None = None
        devices: Devices | None = None
        try:
            hall_path = write_hall_config(self.workdir / "hall", broker,
                                          web_port=self.options.port)
            hall = load_hall_config(hall_path)
            hall = hall.model_copy(update={"rules": hall.rules.model_copy(
                update={"pending_print_s": PENDING_PRINT_S})})
            secret = load_secret(hall, hall_path)
            today = datetime.now(ZoneInfo(hall.hall.timezone)).date()
            # real time until the hall is set up: the day starts at its own speed
            clock = DemoClock(first_opening(hall, today) - BEFORE_OPENING, 1.0)
            controller = Controller(hall, clock, secret, self.workdir / "hall" / "journal.sqlite3")
            await controller.start()
            web = await self._start_web(controller, hall, hall_path, secret)
            self.governor = Governor(clock, self.options.speed)
            devices = await self._devices(hall, broker, clock, secret)
            tasks.append(asyncio.create_task(nearby.run()))
            self.output.note(f"Hall {hall.hall.name} ({hall.hall.name_en}) running at "
                             f"{self.options.speed:g}x; manager's tablet: {web}; Ctrl-C stops.")
            days = await self._days(hall, clock, secret, devices)
            if self.governor.slowest < self.options.speed:
                self.output.note(f"The clock ran at up to {self.options.speed:g}x, slowed to "
                                 f"{self.governor.slowest:.0f}x at the busiest to keep pace "
                                 f"with this machine.")
            return days
        finally:
            for task in tasks:
                task.cancel()
            if devices is not None:
                await devices.close()
            if self.web is not None:
                await self.web.cleanup()
            if self.view is not None:
                await self.view.stop()
            if controller is not None:
                await controller.stop()
            broker.stop()
            nearby.stop()

    async def _start_web(self, controller: Controller, hall: HallConfig, hall_path: Path,
                         secret: bytes) -> str:
        """The manager's tablet, with a one-off account for whoever runs the demo: the web
        service as a hall runs it (python -m web), here on the demo's clock."""
        password = secrets.token_urlsafe(9)
        self.view = HallView(hall, controller.clock, secret, controller.journal_path,
                             web_broker(hall, hall_path), hall.web.device,
                             state_dir(hall, controller.journal_path))
        await self.view.start()
        managers = default_managers_path(self.view)
        save_accounts(managers, {"demo": Account("demo", WebRole.MANAGER,
                                                 hash_password(password))})
        self.web = await start_web(self.view, hall.web, hall.status_page, managers)
        return f"http://{hall.web.host}:{hall.web.port}/ (sign in as demo / {password})"

    async def _devices(self, hall: HallConfig, broker: MosquittoProcess, clock: DemoClock,
                       secret: bytes) -> Devices:
        links: list[Link] = []

        async def link(device: str, role: m.Role, follow: tuple[str, ...] = ()) -> Link:
            made = Link(broker.broker_settings(device), hall.hall.id, device, role,
                        follow=follow)
            links.append(made)
            await made.start()
            return made

        topics = HallTopics(hall.hall.id)
        display = await link("display-lobby", m.Role.DISPLAY, (topics.event(EventKind.CALL),))
        manager = Manager(await link("manager", m.Role.MANAGER, (topics.event(EventKind.ALERT),)),
                          await link("upstream", m.Role.UPSTREAM))
        follow_hall(display, manager.link, self.tally)
        kiosks = [SimulatedKiosk(await link(f"kiosk-{n}", m.Role.KIOSK, (topics.all_state,)),
                                 clock, secret, self.tally, self.governor) for n in (1, 2)]
        if len(hall.clerks) < len(hall.counters):
            raise ValueError(f"{EXAMPLE_HALL}: the demo needs a clerk for each of its "
                             f"{len(hall.counters)} windows, the hall has {len(hall.clerks)}")
        counters = []
        for counter, clerk in zip(hall.counters, hall.clerks, strict=False):
            caller = await link(f"caller-{counter.id}", m.Role.CALLER, (
                topics.state(StateKind.COUNTER, counter.id), topics.all_services))
            counters.append(SimulatedCounter(caller, counter.id, clerk.staff_no,
                                             clock, self.rng, self.tally, manager,
                                             self.governor))
        return Devices(kiosks, counters, manager, links)

    # ------------------------------------------------------------ the days
    async def _days(self, hall: HallConfig, clock: DemoClock, secret: bytes,
                    devices: Devices) -> list[DayTotals]:
        done: list[DayTotals] = []
        serial = 1
        for n in range(self.options.days):
            start = first_opening(hall, clock.now().date() + timedelta(days=1 if n else 0))
            if n:
                self.output.note(f"Night: the hall is closed until {start:%a %d %b %H:%M}.")
                clock.skip_to(start - BEFORE_OPENING)
            plan = self.planner(start, self.options.hours, self.options.arrivals, self.rng, serial)
            serial += len(plan.residents)
            if n == 0:
                self.output.note("What to look at on the tablet (hall time):")
                for line in plan.highlights():
                    self.output.note(f"  {line}")
            totals = await self._day(plan, clock, secret, devices, start)
            done.append(totals)
            title = f"Day {n + 1} over ({start:%a %Y-%m-%d})" if self.options.days > 1 else \
                f"Day over ({start:%a %Y-%m-%d})"
            self.output.note(totals.closing_line(title))
            alerts = ", ".join(f"{kind} {n}" for kind, n in self.tally.alerts.most_common())
            self.output.note(f"Alerts on the tablet: {alerts or 'none'}.")
        return done

    async def _day(self, plan: DayPlan, clock: DemoClock, secret: bytes, devices: Devices,
                   opening: datetime) -> DayTotals:
        self.tally.start_day(opening.date())
        self.output.note(f"{opening:%a %Y-%m-%d}: the hall opens at {opening:%H:%M}; "
                         f"{len(plan.residents)} residents will come.")
        for counter in devices.counters:
            counter.breaks = sorted((b for b in plan.breaks if b.counter == counter.counter_id),
                                    key=lambda b: b.start)
            counter.bad_rating_after = (plan.bad_rating[1] if plan.bad_rating is not None
                                        and plan.bad_rating[0] == counter.counter_id else None)
        self.output.new_day()
        tasks = [asyncio.create_task(self._report(clock, devices))]
        await asyncio.sleep(0)  # the summary's first line before the bookings
        try:
            await self._before_opening(plan, clock, secret, devices)
            tasks += [asyncio.create_task(c.run()) for c in devices.counters]
            if plan.paper_low is not None:
                tasks.append(asyncio.create_task(self._paper_low(plan, clock, devices)))
            await self._arrivals(plan, clock, devices)
            await self._until_over(clock, devices, opening, tasks)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        for kiosk in devices.kiosks:
            if not kiosk.in_service:  # the day ended before the refill
                kiosk.set_paper_low(False)
            kiosk.printer = SimulatedPrinter()  # it keeps every ticket: start each day afresh
        for counter in devices.counters:
            await counter.sign_out()
        return self.tally.totals

    async def _before_opening(self, plan: DayPlan, clock: DemoClock, secret: bytes,
                              devices: Devices) -> None:
        """Appointments booked and clerks signed in, in real time (checking 13 PINs takes
        the controller a second: at 600x ten minutes of the morning)."""
        clock.set_factor(1.0)
        try:
            await self._book(plan, clock, secret, devices.manager)
            await asyncio.gather(*(c.sign_in() for c in devices.counters))
        finally:
            clock.set_factor(self.governor.target)

    async def _book(self, plan: DayPlan, clock: DemoClock, secret: bytes,
                    manager: Manager) -> None:
        """Today's appointments, booked online (by the residents' keyed hashes only), all at
        once before opening."""
        bookings = []
        for resident in plan.residents:
            if resident.slot is None:
                continue
            card = sample_card(birth_date=resident.born, serial=resident.serial)
            person = resident_from_card(card, secret, clock.now().date())
            del card
            bookings.append(manager.book(person.id_hash, resident.service, resident.slot))
        await asyncio.gather(*bookings)

    async def _arrivals(self, plan: DayPlan, clock: DemoClock, devices: Devices) -> None:
        """Each resident at their time, at a kiosk in service; all of them answered."""
        pending: set[asyncio.Task[None]] = set()
        try:
            for resident in plan.residents:
                await clock.sleep_until(resident.arrives)
                self.tally.arrive()
                task = asyncio.create_task(self._at_kiosks(resident, devices.kiosks))
                pending.add(task)
                task.add_done_callback(pending.discard)
            while pending:
                await asyncio.gather(*pending)
        finally:
            for task in pending:
                task.cancel()

    async def _at_kiosks(self, resident: Resident, kiosks: list[SimulatedKiosk]) -> None:
        """The resident queues at the kiosk in service with the shortest queue (again, if it
        goes out of service before their turn), or leaves if none is in service."""
        while True:
            working = [k for k in kiosks if k.in_service]
            if not working:
                self.tally.leave("no kiosk in service")
                return
            if await min(working, key=lambda k: k.queue).serve(resident):
                return

    async def _paper_low(self, plan: DayPlan, clock: DemoClock, devices: Devices) -> None:
        assert plan.paper_low is not None
        low, refill, device = plan.paper_low
        kiosk = next(k for k in devices.kiosks if k.link.device == device)
        await clock.sleep_until(low)
        kiosk.set_paper_low(True)
        await clock.sleep_until(refill)
        kiosk.set_paper_low(False)

    async def _until_over(self, clock: DemoClock, devices: Devices, opening: datetime,
                          tasks: list[asyncio.Task[None]]) -> None:
        """Until every ticket is served or a no-show and every clerk has heard the answer to
        their last press; at LAST_CALL the day is ended and open tickets are not served. A
        device that failed stops the demo with its error."""
        last_call = datetime.combine(opening.date(), LAST_CALL, opening.tzinfo)
        while self.tally.open_tickets or any(c.in_hand for c in devices.counters):
            for task in tasks:
                if task.done() and not task.cancelled() and task.exception() is not None:
                    raise RuntimeError("a simulated device failed") from task.exception()
            if every_window_closed(devices.kiosks[0].link):  # the day closed itself
                self.tally.settle()
                return
            if clock.now() >= last_call:
                await devices.manager.end_day()
                self.tally.settle()
                return
            await asyncio.sleep(POLL_S)

    async def _report(self, clock: DemoClock, devices: Devices) -> None:
        """The live summary: redrawn in a terminal, a line a minute of hall time otherwise."""
        kiosk = devices.kiosks[0].link
        first_shown = False
        while True:
            now = clock.now()
            if not first_shown and self.tally.first_ticket:
                first_shown = True
                self.output.note(f"{now:%a %H:%M}  the day's first ticket: "
                                 f"{self.tally.first_ticket}")
            near = nearby_text(kiosk, datetime.now(now.tzinfo))
            for at in self.output.due(now):
                self.output.update(at, figures(at, self.tally, near, clock.factor))
            to_next_minute = 60 - now.second - now.microsecond / 1e6
            await asyncio.sleep(min(self.output.redraw_s, clock.real_seconds(to_next_minute)
                                    + 0.001))


def every_window_closed(kiosk: Link) -> bool:
    """Every window closed, as a kiosk sees the hall: the day is over (lunch closes a few)."""
    windows = [s for s in list(kiosk.state.values()) if isinstance(s, m.CounterState)]
    return bool(windows) and all(w.status is m.CounterStatus.CLOSED for w in windows)
