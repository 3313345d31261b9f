"""bench.city end to end on a handful of halls: every summary arrives, the JSON line is whole."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_city_reports_every_summary_and_its_lag() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "bench.city", "--halls", "3", "--bridged", "1", "--seconds", "1",
         "--procs", "1", "--json"], capture_output=True, text=True, cwd=ROOT, timeout=120,
        check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert (result["halls"], result["bridged"]) == (3, 1)
    assert result["received_after_warmup"] == 3  # one summary a second from each hall
    assert result["lag_ms_bridged"]["n"] == 1 and result["lag_ms_direct"]["n"] == 2
    assert 0 < result["lag_ms"]["p50"] <= result["lag_ms"]["p99"] <= result["lag_ms"]["max"]
    assert result["machine"]["cpus"] >= 1
