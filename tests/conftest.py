"""Fixtures every test may use: the example hall's config, a real Mosquitto broker and the
example hall's controller on it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Generator, Iterator
from pathlib import Path

import pytest
from support.broker import SyncClient, connect, start_broker
from support.hall import start_controller

from broker_config.process import MosquittoProcess
from hall.controller import Controller

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture(scope="session")
def hall_config_path() -> Path:
    """examples/hall.toml: hall "tianping", 13 counters, 31 devices."""
    return EXAMPLES / "hall.toml"


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory,
           hall_config_path: Path) -> Iterator[MosquittoProcess]:
    """One broker for the whole session; clean up any retained message you publish."""
    process = start_broker(hall_config_path, tmp_path_factory.mktemp("broker"))
    yield process
    process.stop()


@pytest.fixture
def fresh_broker(tmp_path: Path, hall_config_path: Path) -> Iterator[MosquittoProcess]:
    """A broker of this test's own, free to be killed and restarted."""
    process = start_broker(hall_config_path, tmp_path / "broker")
    yield process
    process.stop()


@pytest.fixture
async def controller(fresh_broker: MosquittoProcess, tmp_path: Path) -> AsyncIterator[Controller]:
    """The example hall's controller on this test's own broker, Monday 09:00 (virtual), a clerk
    signed in at each counter; a module may define its own."""
    started = await start_controller(fresh_broker, tmp_path)
    yield started
    await started.stop()


@pytest.fixture
def broker_client(broker: MosquittoProcess) -> Iterator[Callable[[str], SyncClient]]:
    """Connect a SyncClient to the session broker as an account; closed after the test."""
    made: list[SyncClient] = []

    def make(user: str) -> SyncClient:
        made.append(connect(broker.broker_settings(user)))
        return made[-1]

    yield make
    for client in made:
        client.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
        item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, None, None]:
    """Attach the tail of the broker's log to the report of a failing test that used one."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if not report.failed:
        return
    for name in ("fresh_broker", "broker"):
        process = getattr(item, "funcargs", {}).get(name)
        if isinstance(process, MosquittoProcess):
            report.sections.append((f"mosquitto log ({name})", process.log_tail()))
