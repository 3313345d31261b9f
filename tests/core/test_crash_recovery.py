"""kill -9 the controller in the middle of traffic: nothing confirmed lost or duplicated."""

from __future__ import annotations

from pathlib import Path

from bench.recovery import run


async def test_kill_nine_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    result = await run(kills=3, workdir=tmp_path, seed=7)
    assert result["confirmed_tickets"] > 20 and result["calls"] > 10
    assert result["lost"] == 0
    assert result["duplicated"] == 0
    assert result["double_called"] == 0
