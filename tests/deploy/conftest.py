"""Fixtures of the deployment tests: a broker on the files generated for the test's hall."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from broker_config.process import MosquittoProcess
from hallconfig import load_hall_config


@pytest.fixture
def hall_broker(tmp_path: Path, hall_toml: Path) -> Iterator[MosquittoProcess]:
    """Mosquitto on the generated files in broker/ next to the hall config (each test module
    gives its own ``hall_toml``), as installed."""
    process = MosquittoProcess(load_hall_config(hall_toml), tmp_path / "broker")
    process.start()
    yield process
    process.stop()
