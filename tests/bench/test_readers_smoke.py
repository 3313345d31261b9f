"""bench.readers end to end on a tiny history: the JSON it prints, and that every command was
answered; and the generated history is a journal the controller could have written."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from datetime import date
from pathlib import Path

from bench.readers import BROKER_UNIT, DEVICES_UNIT, unit_chrt, unit_nice
from bench.year_history import Spec, ensure
from hall.engine.engine import HallEngine
from hall.engine.events import Kind, event_from_row
from hallconfig import load_hall_config

ROOT = Path(__file__).resolve().parents[2]
PHASES = ("alone", "year_report", "whatif", "streams", "all")
ROUNDS, STREAMS = 5, 5


def test_readers_benchmark_prints_its_figures_and_every_command_is_answered(
        tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "bench.readers", "--days", "3", "--per-day", "50",
         "--counters", "4", "--waiting", "20", "--streams", str(STREAMS),
         "--rounds", str(ROUNDS), "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
        env={**os.environ, "PYTHONPATH": str(ROOT), "LOBBY_BENCH_CACHE": str(tmp_path)})
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])

    assert set(result["commands_ms"]) == set(PHASES)
    for phase in PHASES:
        figures = result["commands_ms"][phase]
        assert figures["n"] >= 2 * ROUNDS, phase
        assert figures["timeouts"] == 0, phase
        assert 0 < figures["p50"] <= figures["p99"] <= figures["max"], phase
    loads = result["loads"]
    for phase, ops in (("year_report", ("report", "csv")), ("whatif", ("whatif",)),
                       ("all", ("report", "csv", "whatif"))):
        for op in ops:
            assert loads[phase][op]["statuses"].get("200", 0) >= 1, (phase, op)
    assert loads["year_report"]["csv"]["lines"] > 1  # the header and the tickets
    assert loads["warm"]["report"]["statuses"] == {"200": 1}  # the cache filled before (a)
    for phase in ("streams", "all"):
        assert loads[phase]["streams"]["statuses"] == {"200": STREAMS}
        assert loads[phase]["streams"]["open_at_end"] == STREAMS
    for key in ("year_report_s", "year_report_first_s", "year_csv_s", "month_report_s",
                "reader_peak_rss_mb", "writer_rss_mb"):
        assert isinstance(result[key], float) and result[key] > 0, key
    assert result["machine"]["cpus"] >= 1
    for when in ("start", "end"):
        pace = result["host_pace"][when]
        assert pace["python_ms"] > 0 and 0 < pace["fsync_ms"] <= pace["fsync_max_ms"], when
    assert result["history"]["tickets"] > 100
    units = {"broker": BROKER_UNIT, "controller": "lobby-hall.service",
             "web": "lobby-web.service"}
    units["devices"] = DEVICES_UNIT  # kiosks and callers on Pis of their own
    if os.geteuid() == 0:  # a raised priority and the units' chrt need root
        assert {name: result["nice"][name] for name in units} == {
            name: os.nice(0) + unit_nice(unit) for name, unit in units.items()}
        assert {name: result["policy"][name] for name in units} == {
            name: "rr" if unit_chrt(unit) else "other" for name, unit in units.items()}
    assert result["nice"]["load"] == os.nice(0)
    assert result["policy"]["load"] == "other"


def test_generated_history_is_a_journal_of_closed_days(tmp_path: Path) -> None:
    history = ensure(Spec(days=3, per_day=60, counters=4, last=date(2026, 11, 27)), tmp_path)
    assert ensure(Spec(days=3, per_day=60, counters=4, last=date(2026, 11, 27)),
                  tmp_path).built_s is None  # the second time from the cache
    config = load_hall_config(history.hall)
    reader = sqlite3.connect(f"{history.journal.as_uri()}?mode=ro", uri=True)
    try:
        days = [date.fromisoformat(d) for (d,) in reader.execute(
            "SELECT DISTINCT day FROM events ORDER BY day")]
        assert days == [date(2026, 11, 25), date(2026, 11, 26), date(2026, 11, 27)]
        for day in days:
            rows = reader.execute("SELECT seq, kind, at, data FROM events WHERE day = ? "
                                  "ORDER BY seq", (day.isoformat(),)).fetchall()
            events = [event_from_row(*row) for row in rows]
            engine = HallEngine(config, day, b"any secret")
            for event in events:
                engine.apply(event)
            kinds = {e.kind for e in events}
            assert {Kind.CLERK_SIGNED_IN, Kind.TICKET_CALLED, Kind.TICKET_DONE, Kind.RATED,
                    Kind.TICKET_PRINTED} <= kinds
            assert events[-1].kind is Kind.DAY_ENDED and engine.ended
            assert max(e.at for e in events) <= events[-1].at  # nothing after the close
            assert not any(t.is_open for t in engine.tickets.values())
            assert all(getattr(e.data, "id_hash", None) is None
                       for e in events)  # erased, as at midnight
    finally:
        reader.close()
    with sqlite3.connect(history.journal) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        replies = db.execute("SELECT COUNT(*) FROM replies").fetchone()[0]
    assert replies > history.tickets  # every command that changed something kept its reply
