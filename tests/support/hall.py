"""Run the hall controller in tests: in-process on a virtual clock, or as a child process
that a test can kill -9."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from broker_config.process import MosquittoProcess
from demo.hallfiles import write_hall_config
from hall.clock import Clock, VirtualClock
from hall.controller import Controller
from hall.engine.engine import HallEngine
from hall.engine.policy import make_policy
from hallconfig import HallConfig, hash_pin, load_hall_config
from protocol import messages as m
from protocol.link import new_command_id
from protocol.messages import Role
from web.hallview import HallView

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_HALL = ROOT / "examples" / "hall.toml"
__all__ = ["write_hall_config"]
SHANGHAI = ZoneInfo("Asia/Shanghai")
SECRET = b"test-hall-secret-0123456789abcdef"
TEST_PIN = "2468"
TEST_PIN_HASH = hash_pin(TEST_PIN, b"test", iterations=1)  # cheap: tests sign in often


def weekday_morning() -> VirtualClock:
    """Monday 23 November 2026, 09:00 in Shanghai: the hall is open."""
    return VirtualClock(datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI))


def hall_config() -> HallConfig:
    """The example hall, with a test clerk for every counter (``clerk_of``, PIN TEST_PIN)."""
    example = load_hall_config(EXAMPLE_HALL)
    return HallConfig.model_validate(with_clerks(example.model_dump()))


def clerk_of(counter: str) -> str:
    """The staff number of the test clerk who works at ``counter``."""
    return f"C-{counter}"


def with_clerks(raw: dict[str, Any]) -> dict[str, Any]:
    """A raw hall config with, besides its own clerks, a test clerk for every counter."""
    clerks = [{"staff_no": clerk_of(c["id"]), "name": f"职员{c['id']}",
               "pin_hash": TEST_PIN_HASH} for c in raw["counters"]]
    return {**raw, "clerks": [*raw.get("clerks", []), *clerks]}


def sign_in(engine: HallEngine, counters: Iterable[str] | None = None,
            at: datetime | None = None) -> HallEngine:
    """Each counter's clerk signs in (every counter's by default, at 08:00 of the day);
    the sign-ins are not left among the events to take."""
    when = at or datetime.combine(engine.day, time(8, 0), engine.tz)
    for counter in engine.desks if counters is None else counters:
        engine.sign_in(when, counter, clerk_of(counter))
    engine.take_events()
    return engine


def two_service_engine(counters: dict[str, list[str]], minutes_a: float, minutes_e: float,
                       policy: str = "default",
                       staffed: Iterable[str] | None = None) -> HallEngine:
    """An engine on Monday 23 November 2026 with services A and E (planning minutes given)
    at these counters (id -> services, "*" for all), each with a clerk of its own
    (``clerk_of``) signed in at 08:00, or only those ``staffed`` names."""
    config = HallConfig.model_validate(with_clerks({
        "hall": {"id": "t", "name": "测试", "name_en": "Test"},
        "services": [{"id": "A", "name": "A", "name_en": "A", "mean_minutes": minutes_a},
                     {"id": "E", "name": "E", "name_en": "E", "mean_minutes": minutes_e}],
        "counters": [{"id": c, "name": c, "name_en": c, "services": skills}
                     for c, skills in counters.items()]}))
    engine = HallEngine(config, weekday_morning().now().date(), SECRET,
                        make_policy(policy, config))
    return sign_in(engine, staffed)


async def start_controller(broker: MosquittoProcess, directory: Path,
                           clock: Clock | None = None,
                           config: HallConfig | None = None,
                           staffed: bool = True) -> Controller:
    """A started controller for the example hall (or ``config``), journal in ``directory``,
    with each counter's test clerk signed in (unless ``staffed`` is false)."""
    controller = Controller(config or hall_config(), clock or weekday_morning(), SECRET,
                            directory / "journal.sqlite3",
                            broker=broker.broker_settings("controller"))
    await controller.start()
    if staffed:
        await staff_counters(controller)
    return controller


async def follow(controller: Controller, broker: MosquittoProcess, directory: Path) -> HallView:
    """The web service's view of a running controller (device web, the journal read-only),
    caught up with everything committed so far; ``stop()`` it before the controller."""
    view = HallView(controller.config, controller.clock, SECRET, controller.journal_path,
                    broker.broker_settings("web"), "web", directory / "web-state")
    await view.start()
    await view.settled(controller.rev)
    return view


async def staff_counters(controller: Controller, counters: Iterable[str] | None = None) -> None:
    """Each counter's test clerk signs in from the counter's caller (every counter that has
    both, by default): a counter calls only with a clerk signed in."""
    config = controller.config
    clerks = {c.staff_no for c in config.clerks}
    wanted = set(controller.engine.desks) if counters is None else set(counters)
    for device in config.devices:
        counter = device.counter
        if device.role == Role.CALLER and counter in wanted and clerk_of(counter) in clerks:
            reply = await controller.execute("sign_in", m.SignIn(
                id=new_command_id(), staff_no=clerk_of(counter), pin=TEST_PIN), device.id)
            if not reply.ok:
                raise RuntimeError(f"{clerk_of(counter)} could not sign in: {reply.error}")
