"""A simulated day whose windows open one by one: clerks sign in between 08:25 and 08:45.

Every window is open from 08:30, but calls only once its clerk has signed in; until a window
serving a service is staffed, a ticket of that service is told "wait not yet known" (no
estimate), never a number that counts the empty windows.
"""

from __future__ import annotations

import math

import pytest

from bench.scenario import ScenarioError, load_scenario, parse_scenario, scenario_path
from bench.sim_day import DAY, SECRET, Calls, Day, booked, hall_config, run_day
from bench.sim_metrics import summarise
from hall.engine.engine import HallEngine
from hall.engine.policy import make_policy
from hall.engine.whatif import Rehearsal

STAGGERED = scenario_path("tianping-weekday-staggered")


@pytest.mark.parametrize("seed", range(4))
def test_no_window_calls_before_its_clerk_and_no_estimate_counts_an_empty_window(
        seed: int) -> None:
    scenario = load_scenario(STAGGERED)
    day = Day(scenario, seed)
    arrive = day.clerks()
    assert arrive is not None and set(arrive) == {c.id for c in scenario.counters}
    assert all(day.local("08:25") <= t <= day.local("08:45") for t in arrive.values())
    config = hall_config(scenario, "default")
    engine = HallEngine(config, DAY, SECRET, make_policy("default", config))
    Rehearsal(engine, True, Calls(scenario, seed).outcome).run(
        day.start, booked(engine, day), day.breaks(), clerks=arrive)
    skills = {c.id: c.services for c in scenario.counters}
    first_calls: dict[str, float] = {}
    for ticket in engine.tickets.values():
        assert ticket.called_at is not None and ticket.counter is not None
        assert ticket.called_at >= arrive[ticket.counter]
        first_calls.setdefault(ticket.counter, ticket.called_at)
        first_calls[ticket.counter] = min(first_calls[ticket.counter], ticket.called_at)
        if ticket.issued_at < day.local("09:00"):
            staffed = any(arrive[c] <= max(ticket.issued_at, day.start)
                          and ("*" in s or ticket.service in s) for c, s in skills.items())
            assert (ticket.estimate_at_issue is None) is not staffed, ticket.number
    assert set(first_calls) == set(arrive)  # every window served once its clerk came


def test_the_day_reports_how_many_were_told_the_wait_is_not_yet_known() -> None:
    """Clerks late (08:35 to 08:50): the first residents have no estimate, and the report
    says what share of the day's residents that was."""
    raw = load_scenario(STAGGERED).model_dump()
    late = parse_scenario({**raw, "staffing": {"arrive_from": "08:35", "arrive_until": "08:50"}})
    days = [run_day(late, seed, "default") for seed in range(3)]
    report = summarise(days)
    told = sum(1 for day in days for e in day.estimates_s if math.isnan(e))
    assert told > 0
    assert report["estimate_unknown_share"] == round(told / sum(len(d.waits_s) for d in days), 4)
    assert report["estimate_mae_min"] is not None
    on_time = summarise([run_day(load_scenario(scenario_path("tianping-weekday")), 0, "default")])
    assert on_time["estimate_unknown_share"] == 0.0  # every clerk there at opening


def test_clerks_arrive_on_day_scenarios_only_and_in_order() -> None:
    raw = load_scenario(STAGGERED).model_dump()
    with pytest.raises(ScenarioError, match="arrive_from must not be after arrive_until"):
        parse_scenario({**raw, "staffing": {"arrive_from": "08:45", "arrive_until": "08:25"}})
    steady = {**raw, "hours": {"steady_state": True, "horizon_hours": 5},
              "arrivals": {**raw["arrivals"], "rate_per_hour": 60, "appointment_share": 0.0},
              "breaks": []}
    with pytest.raises(ScenarioError, match="staffing: clerks arrive on a day scenario"):
        parse_scenario(steady)
