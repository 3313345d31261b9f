"""The projection compiled at install (setup.py, mypyc) is the one in use, it gives exactly
what its Python source gives, and a stale compiled copy gives way to the source."""

from __future__ import annotations

import importlib.util
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

import hall.engine.projection as projection
import hall.engine.whatif as whatif
from bench.scenario import parse_scenario
from bench.sim_day import run_day
from bench.sim_speed import crowded_hall

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "hall" / "engine" / "projection.py"
PROBE = "import hall.engine.projection as p; print(p.__file__)"

# 320 residents in four hours at 4 comprehensive windows and 2 specialists: queues form,
# guards hold tickets for the specialists, phantoms flip guards (trials), breaks close windows.
BUSY_DAY = {
    "name": "busy", "hours": {"open": "09:00", "close": "13:00"},
    "arrivals": {"per_day": 320, "profile": [["09:00", 1.4], ["11:00", 1.0]],
                 "appointment_share": 0.1, "priority_share": 0.1, "no_show_prob": 0.04},
    "services": [{"id": s, "name": s, "share": share, "minutes": minutes, "cv": 0.6,
                  "dist": "lognormal"}
                 for s, share, minutes in (("A", 0.4, 9.0), ("E", 0.3, 8.0), ("F", 0.3, 5.0))],
    "counters": [*({"id": str(n), "services": ["*"]} for n in range(1, 5)),
                 {"id": "5", "services": ["E"]}, {"id": "6", "services": ["F", "E"]}],
    "breaks": [{"counters": ["1"], "start": "10:30", "end": "11:00"}],
}


def python_source() -> ModuleType:
    """projection.py loaded from source under its own name, beside the compiled module."""
    spec = importlib.util.spec_from_file_location("projection_source", SOURCE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


def test_the_install_compiled_the_projection() -> None:
    assert projection.__file__ is not None
    assert projection.__file__.endswith(".so"), (
        f"{projection.__file__}: the projection is not compiled; run scripts/bootstrap")


@pytest.mark.parametrize("policy", ["default", "fifo"])
def test_compiled_and_source_projections_agree_on_a_busy_day(
        policy: str, monkeypatch: pytest.MonkeyPatch) -> None:
    scenario = parse_scenario(BUSY_DAY)
    compiled = [run_day(scenario, seed, policy) for seed in range(2)]
    monkeypatch.setattr(whatif, "project", python_source().project)
    interpreted = [run_day(scenario, seed, policy) for seed in range(2)]
    for fast, slow in zip(compiled, interpreted, strict=True):
        assert fast.waits_s.tobytes() == slow.waits_s.tobytes()
        assert fast.estimates_s.tobytes() == slow.estimates_s.tobytes()
    estimates = [e for day in compiled for e in day.estimates_s if not math.isnan(e)]
    assert sum(e > 600 for e in estimates) > 50  # real queues were projected


@pytest.mark.parametrize("policy", ["default", "fifo"])
def test_compiled_and_source_agree_on_a_crowded_hall(policy: str) -> None:
    engine, now = crowded_hall(policy)
    source = python_source()
    fast, slow = projection.project(engine, now), source.project(engine, now)
    assert len(fast.starts) == 2000
    assert (fast.starts, fast.free_at, fast.phantom) == (slow.starts, slow.free_at, slow.phantom)
    for service in engine.queues:
        assert (projection.project(engine, now, service).phantom
                == source.project(engine, now, service).phantom)


def test_a_stale_or_unwanted_compiled_copy_gives_way_to_the_source(tmp_path: Path) -> None:
    for package in ("hall", "protocol"):
        shutil.copytree(ROOT / package, tmp_path / package,
                        ignore=shutil.ignore_patterns("__pycache__", "node_modules"))
    engine_dir = tmp_path / "hall" / "engine"
    built = sorted(engine_dir.glob("projection.*.so"))
    assert built, "no compiled projection to test with; run scripts/bootstrap"
    source = engine_dir / "projection.py"

    def imported(pure: bool = False) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "PYTHONPATH": str(tmp_path)}
        env.pop("LOBBY_PURE_PYTHON", None)
        if pure:
            env["LOBBY_PURE_PYTHON"] = "1"
        return subprocess.run([sys.executable, "-c", PROBE], cwd=tmp_path, env=env,
                              capture_output=True, text=True, check=True)

    os.utime(source, (1_000_000_000, 1_000_000_000))  # the source older than the build
    assert imported().stdout.strip() == str(built[0])
    assert imported(pure=True).stdout.strip() == str(source)
    os.utime(source)  # edited after the build
    stale = imported()
    assert stale.stdout.strip() == str(source)
    assert "older than projection.py" in stale.stderr
