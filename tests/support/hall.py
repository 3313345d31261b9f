"""Run the hall controller in tests: in-process on a virtual clock, or as a child process
that a test can kill -9."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from broker_config.process import MosquittoProcess
from demo.hallfiles import write_hall_config
from hall.clock import Clock, VirtualClock
from hall.config import HallConfig, load_hall_config
from hall.controller import Controller
from hall.engine.engine import HallEngine
from hall.engine.policy import make_policy

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_HALL = ROOT / "examples" / "hall.toml"
__all__ = ["write_hall_config"]
SHANGHAI = ZoneInfo("Asia/Shanghai")
SECRET = b"test-hall-secret-0123456789abcdef"


def weekday_morning() -> VirtualClock:
    """Monday 23 November 2026, 09:00 in Shanghai: the hall is open."""
    return VirtualClock(datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI))


def hall_config() -> HallConfig:
    return load_hall_config(EXAMPLE_HALL)


def two_service_engine(counters: dict[str, list[str]], minutes_a: float, minutes_e: float,
                       policy: str = "default") -> HallEngine:
    """An engine on Monday 23 November 2026 with services A and E (planning minutes given)
    at these counters (id -> services, "*" for all)."""
    config = HallConfig.model_validate({
        "hall": {"id": "t", "name": "测试", "name_en": "Test"},
        "services": [{"id": "A", "name": "A", "name_en": "A", "mean_minutes": minutes_a},
                     {"id": "E", "name": "E", "name_en": "E", "mean_minutes": minutes_e}],
        "counters": [{"id": c, "name": c, "name_en": c, "services": skills}
                     for c, skills in counters.items()]})
    return HallEngine(config, weekday_morning().now().date(), SECRET,
                      make_policy(policy, config))


async def start_controller(broker: MosquittoProcess, directory: Path,
                           clock: Clock | None = None,
                           config: HallConfig | None = None) -> Controller:
    """A started controller for the example hall (or ``config``), journal in ``directory``."""
    controller = Controller(config or hall_config(), clock or weekday_morning(), SECRET,
                            directory / "journal.sqlite3",
                            broker=broker.broker_settings("controller"))
    await controller.start()
    return controller
