"""Backups are whole copies of the journal (a busy hall's year: about 2 GB each), so the
hourly ones are kept a day and the day-close ones ``backup_keep_days``: a year of hourly
copies would fill any SD card."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path

from support.hall import SHANGHAI, start_controller

from broker_config.process import MosquittoProcess
from hall.clock import VirtualClock
from hall.journal import backup_dir


async def test_hourly_copies_go_after_a_day_and_close_copies_after_the_kept_days(
        fresh_broker: MosquittoProcess, tmp_path: Path) -> None:
    clock = VirtualClock(datetime(2026, 11, 23, 16, 0, tzinfo=SHANGHAI))
    controller = await start_controller(fresh_broker, tmp_path, clock=clock)
    keep = controller.config.backup_keep_days
    folder = backup_dir(controller.journal_path)
    folder.mkdir(parents=True, exist_ok=True)
    stem = controller.journal_path.stem
    now = clock.now().timestamp() + 10 * 3600  # after tonight's close
    aged = {f"{stem}-20261123-0900.sqlite3": 0.5, f"{stem}-20261122-0900.sqlite3": 1.5,
            f"{stem}-20261120-0000-close.sqlite3": keep - 1,
            f"{stem}-20261001-0000-close.sqlite3": keep + 1}
    for name, days in aged.items():
        (folder / name).write_bytes(b"")
        os.utime(folder / name, (now - days * 86400, now - days * 86400))
    try:
        clock.advance(timedelta(hours=10).total_seconds())  # past midnight: the day closes
        await controller.tick(clock.now())
        assert controller._backup is not None
        await controller._backup
    finally:
        await controller.stop()
    left = sorted(p.name for p in folder.glob("*.sqlite3"))
    tonight = [n for n in left
               if n.startswith(f"{stem}-20261124-") and n.endswith("-close.sqlite3")]
    assert len(tonight) == 1, left
    assert sorted(set(left) - set(tonight)) == sorted(
        [f"{stem}-20261123-0900.sqlite3", f"{stem}-20261120-0000-close.sqlite3"])
