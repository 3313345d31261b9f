"""The services table shows each service's targets and the share of tickets within them,
checked against a small journal made by the engine itself on a hand-moved clock."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from support.hall import SECRET, SHANGHAI, hall_config, sign_in
from support.history_days import summed_up

from hall.engine.engine import HallEngine
from hall.engine.events import Event
from hall.reports import Names, to_csv
from web.reports_page import names_of

MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)
DAY = MONDAY.date().isoformat()
CONFIG = hall_config()
ALL = next(c.id for c in CONFIG.counters if "*" in c.services)  # a comprehensive window


class Controllerish:
    """What names_of reads from the web service's view of the hall: its config."""

    config = CONFIG


def journal(visits: list[tuple[str, float, float, float | None, float]]) -> list[tuple[str, Event]]:
    """Each (service, issued, called, started or None, done) in minutes after 09:00, one
    after the other at the same window."""
    engine = sign_in(HallEngine(CONFIG, MONDAY.date(), SECRET))
    events: list[tuple[str, Event]] = []
    for service, issued, called, started, done in visits:
        engine.issue(MONDAY + timedelta(minutes=issued), service, pending_print=False)
        engine.call_next(MONDAY + timedelta(minutes=called), ALL)
        if started is not None:
            engine.start(MONDAY + timedelta(minutes=started), ALL)
        engine.done(MONDAY + timedelta(minutes=done), ALL)
        events += [(DAY, e) for e in engine.take_events()]
    return events


def rows(events: list[tuple[str, Event]], names: Names) -> dict[str, dict[str, object]]:
    report = summed_up(date(2026, 11, 23), date(2026, 11, 23), events, names, SHANGHAI)
    return {r["service"]: r for r in report.tables["services"].rows}


def test_shares_within_each_services_own_targets() -> None:
    names = names_of(Controllerish())  # type: ignore[arg-type]
    assert names.targets["F"] == (10, 10)  # its own (examples/hall.toml)
    assert names.targets["B"] == (20, 21)  # the hall's; 3 × 7 min
    events = journal([
        ("F", 0, 5, 5, 13),      # wait 5, service 8: both within
        ("F", 20, 32, 32, 43),   # wait 12 > 10, service 11 > 10
        ("F", 50, 60, None, 70),  # wait 10 and service 10 (from the call): within, at the edge
        ("B", 80, 105, 105, 125),  # wait 25 > 20; service 20 <= 21
    ])
    by = rows(events, names)
    assert (by["F"]["wait_target_min"], by["F"]["service_target_min"]) == (10, 10)
    assert (by["F"]["wait_within_pct"], by["F"]["service_within_pct"]) == (66.7, 66.7)
    assert (by["B"]["wait_within_pct"], by["B"]["service_within_pct"]) == (0.0, 100.0)
    assert (by["C"]["wait_target_min"], by["C"]["service_target_min"]) == (20, 36)
    assert (by["C"]["wait_within_pct"], by["C"]["service_within_pct"]) == (None, None)


def test_the_csv_carries_the_targets_and_shares() -> None:
    names = names_of(Controllerish())  # type: ignore[arg-type]
    report = summed_up(date(2026, 11, 23), date(2026, 11, 23),
                          journal([("A", 0, 31, 31, 50)]), names, SHANGHAI)
    text = to_csv(report.tables["services"])
    header, first = text.splitlines()[:2]
    assert '"等候目标 Wait target (min)"' in header
    assert '"办理达标 Service within target (%)"' in header
    assert first.endswith('"20.0","0.0","24.0","100.0"')  # A: own targets 20 and 24


def test_without_targets_the_shares_are_empty() -> None:
    names = Names({s.id: s.name for s in CONFIG.services}, {}, {})
    by = rows(journal([("A", 0, 5, 5, 10)]), names)
    assert by["A"]["wait_target_min"] is None and by["A"]["wait_within_pct"] is None
