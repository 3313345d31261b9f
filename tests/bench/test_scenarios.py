"""The project's own scenarios (bench/scenarios): a clone runs the documented benchmark."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.scenario import SCENARIOS, ScenarioError, load_scenario, scenario_path
from bench.sim_metrics import erlang_for
from bench.simulate import DEFAULT_SCENARIO, main

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted(SCENARIOS.glob("*.toml"))


def test_the_scenarios_live_in_the_repository() -> None:
    assert SCENARIOS == ROOT / "bench" / "scenarios"
    assert {f.stem for f in FILES} >= {DEFAULT_SCENARIO, f"{DEFAULT_SCENARIO}-dedicated"}


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_every_scenario_file_loads_under_its_own_name(path: Path) -> None:
    assert load_scenario(path).name == path.stem
    assert scenario_path(path.stem) == path


def test_without_a_scenario_the_simulator_runs_the_example_hall_day(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--seeds", "1", "--policy", "fifo", "--json"]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["scenario"] == DEFAULT_SCENARIO
    assert report["policies"]["fifo"]["utilisation"] > 0.3


def test_a_scenario_path_anywhere_is_still_read(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    text = (SCENARIOS / f"{DEFAULT_SCENARIO}.toml").read_text(encoding="utf-8")
    path = tmp_path / "elsewhere.toml"
    path.write_text(text.replace(f'name = "{DEFAULT_SCENARIO}"', 'name = "elsewhere"', 1),
                    encoding="utf-8")
    assert main(["--scenario", str(path), "--policy", "fifo", "--json"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["scenario"] == "elsewhere"


def test_an_unknown_name_lists_the_scenarios_there_are(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--scenario", "no-such-day"]) == 2
    error = capsys.readouterr().err
    assert "no-such-day" in error and DEFAULT_SCENARIO in error
    with pytest.raises(ScenarioError, match="no such file"):
        load_scenario(scenario_path("missing/day.toml"))


def test_the_erlang_scenario_is_one_pooled_queue_at_its_stated_load() -> None:
    erlang = erlang_for(load_scenario(scenario_path("erlang-c-mm8")))
    assert erlang is not None
    assert erlang.c == 8
    assert erlang.a / erlang.c == pytest.approx(0.80)


def test_no_doc_or_test_sends_a_reader_outside_the_repository_for_scenarios() -> None:
    places = [ROOT / "README.md", *(ROOT / "bench").rglob("*.md"), *(ROOT / "bench").glob("*.py"),
              *(ROOT / "tests").rglob("*.py"), *(ROOT / "docs").rglob("*.md")]
    here = Path(__file__)
    stale = [str(p.relative_to(ROOT)) for p in places
             if p != here and "shared/scenarios" in p.read_text(encoding="utf-8")]
    assert stale == []
