"""Fixtures of the web tests: a hall with its web app on a fresh broker."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from webhall import WebHall, start_web_hall

from broker_config.process import MosquittoProcess


@pytest.fixture
async def web_hall(fresh_broker: MosquittoProcess, tmp_path: Path) -> AsyncIterator[WebHall]:
    hall = await start_web_hall(fresh_broker, tmp_path)
    yield hall
    await hall.stop()
