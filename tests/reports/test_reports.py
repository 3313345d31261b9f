"""Reports replayed from the engine's own events: exact waits, legs, clerks, hours, CSV."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta

import pytest
from support.hall import SECRET, SHANGHAI, hall_config, sign_in
from support.history_days import summed_up, tickets_csv
from support.report_reference import replay

from hall.engine.engine import HallEngine
from hall.engine.events import Event
from hall.report_days import Dist, Group, Span, encode
from hall.reports import Names, RangeError, parse_range, to_csv
from web.charts import Series, columns, hbars

MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)
DAY = MONDAY.date().isoformat()


class Morning:
    """The pure engine on a hand-moved clock, keeping every event it emits."""

    def __init__(self) -> None:
        self.engine = sign_in(HallEngine(hall_config(), MONDAY.date(), SECRET))
        self.now = MONDAY
        self.events: list[tuple[str, Event]] = []

    def at(self, minutes: float) -> Morning:
        self.now = MONDAY + timedelta(minutes=minutes)
        return self

    def take(self) -> None:
        self.events += [(DAY, e) for e in self.engine.take_events()]

    def issue(self, service: str, **kw: object) -> str:
        ticket = self.engine.issue(self.now, service, pending_print=False, **kw)  # type: ignore[arg-type]
        self.take()
        return ticket.number

    def __call__(self, action: str, *args: object) -> None:
        getattr(self.engine, action)(self.now, *args)
        self.take()


def names() -> Names:
    cfg = hall_config()
    return Names({s.id: s.name for s in cfg.services}, {c.id: c.name for c in cfg.counters},
                 {c.staff_no: c.name for c in cfg.clerks})


def report(hall: Morning):  # type: ignore[no-untyped-def]
    return summed_up(MONDAY.date(), MONDAY.date(), hall.events, names(), SHANGHAI)


def row(table, key: str, value: str) -> dict:  # type: ignore[no-untyped-def,type-arg]
    return next(r for r in table.rows if r[key] == value)


def test_waits_and_service_times_are_exact() -> None:
    hall = Morning()
    hall.at(0).issue("A")  # A001
    hall.at(1).issue("A")  # A002
    hall.at(4)("call_next", "10")  # A001 waited 4 min
    hall.at(5)("start", "10")
    hall.at(11)("done", "10")  # 6 min of service, from the start
    hall.at(11)("call_next", "10")  # A002 waited 10 min
    hall.at(13)("no_show", "10")
    tables = report(hall).tables
    a = row(tables["services"], "service", "A")
    assert (a["issued"], a["served"], a["no_show"]) == (2, 1, 1)
    assert (a["wait_mean_min"], a["wait_max_min"]) == (7.0, 10.0)
    assert a["service_mean_min"] == 6.0  # the no-show leg is not service
    counter = row(tables["counters"], "id", "10")
    assert (counter["served"], counter["no_show"], counter["wait_p90_min"]) == (1, 1, 10.0)
    assert row(tables["services"], "service", "B")["wait_mean_min"] is None


def test_a_transfer_counts_a_leg_at_each_counter() -> None:
    hall = Morning()
    hall.at(0).issue("A")
    hall.at(2)("call_next", "1")
    hall.at(5)("transfer", "1", "E", None)  # 3 min at counter 1, then to residence permits
    hall.at(6)("call_next", "11")
    hall.at(14)("done", "11")
    visit = replay(hall.events)[0]
    assert [(leg.counter, leg.outcome, leg.service_s) for leg in visit.legs] == [
        ("1", "transferred", 180.0), ("11", "done", 480.0)]
    assert visit.wait_s == 120.0  # waiting ends at the first call
    tables = report(hall).tables
    assert row(tables["services"], "service", "A")["issued"] == 1
    assert row(tables["services"], "service", "E")["served"] == 1
    assert row(tables["counters"], "id", "1")["service_mean_min"] == 3.0
    assert row(tables["counters"], "id", "11")["service_mean_min"] == 8.0


def test_clerk_is_who_was_signed_in_at_the_call_and_ratings_count() -> None:
    hall = Morning()
    hall.at(0)("sign_in", "3", "S003")
    hall.at(0).issue("B")
    hall.at(0).issue("B")
    hall.at(1)("call_next", "3")
    hall.at(8)("evaluate", "3", 5, None)
    hall.at(8)("sign_in", "3", "S007")  # the next clerk takes over window 3
    hall.at(9)("call_next", "3")
    hall.at(15)("evaluate", "3", 2, None)
    clerks = report(hall).tables["clerks"]
    first, second = row(clerks, "id", "S003"), row(clerks, "id", "S007")
    assert (first["name"], first["served"], first["satisfied_pct"]) == ("张敏", 1, 100.0)
    assert (second["name"], second["ratings"], second["satisfied_pct"]) == ("赵磊", 1, 0.0)
    counter = row(report(hall).tables["counters"], "id", "3")
    assert (counter["ratings"], counter["rating_mean"], counter["satisfied_pct"]) == (2, 3.5, 50.0)


def test_voided_tickets_do_not_count_and_the_end_of_the_day_leaves_the_rest_not_served(
        ) -> None:
    hall = Morning()
    printing = hall.engine.issue(hall.at(0).now, "F")  # waits for the kiosk's printer
    hall.take()
    hall.at(1)("void", printing.ticket_id, "paper out")
    hall.at(2).issue("F")
    hall.at(3)("end_day")
    visits = replay(hall.events)
    assert [(v.number, v.status) for v in visits] == [("F001", "void"), ("F002", "not_served")]
    f = row(report(hall).tables["services"], "service", "F")
    assert (f["issued"], f["cancelled"], f["not_served"], f["wait_max_min"]) == (1, 0, 1, 1.0)


def test_hours_are_local_and_days_kept_apart() -> None:
    hall = Morning()
    hall.at(0).issue("D")
    hall.at(75).issue("D")
    hall.at(80)("call_next", "12")
    next_day = [(date(2026, 11, 24).isoformat(), e) for _, e in hall.events[:1]]
    visits = replay([*hall.events, *next_day])
    assert [(v.day, v.number) for v in visits] == [(DAY, "D001"), (DAY, "D002"),
                                                    ("2026-11-24", "D001")]
    hours = report(hall).tables["hours"]
    assert [(r["hour"], r["issued"]) for r in hours.rows] == [("09:00", 1), ("10:00", 1)]
    assert row(hours, "hour", "09:00")["wait_max_min"] == 80.0


def p90(values: list[float]) -> float | None:
    """The p90 of a service's waits, each wait a day of its own, each ``values`` minutes."""
    span = Span()
    for value in values:
        key = ("service", "A")
        span.add(encode({key: Group(wait=Dist.of([value * 60]))}), {(*key, "wait"): [value * 60]})
    found = span.p90("service", "A", "wait")
    return None if found is None else found / 60


def test_p90_is_nearest_rank() -> None:
    assert p90([]) is None
    assert p90([5.0]) == 5.0
    assert p90([float(n) for n in range(1, 11)]) == 9.0
    assert p90([float(n) for n in range(1, 12)]) == 10.0
    assert p90([float(n) for n in range(11, 0, -1)]) == 10.0


def test_csv_has_bilingual_headers_and_empty_cells_for_no_value() -> None:
    hall = Morning()
    hall.at(0).issue("G")
    text = to_csv(report(hall).tables["services"])
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0])[:3] == ["业务 Service", "名称 Name", "取号 Issued"]
    g = next(r for r in rows if r["业务 Service"] == "G")
    assert (g["取号 Issued"], g["平均等候 Mean wait (min)"]) == ("1", "")
    tickets = list(csv.DictReader(io.StringIO(tickets_csv(hall.events, SHANGHAI))))
    assert tickets == [{"day": DAY, "number": "G001", "service": "G", "final_service": "G",
                        "channel": "normal", "status": "waiting", "issued": "09:00:00",
                        "called": "", "finished": "", "counter": "", "clerk": "",
                        "wait_min": "", "service_min": "", "rating": ""}]


@pytest.mark.parametrize(("first", "last", "says"), [
    ("2026-02-30", None, "YYYY-MM-DD"), ("2026-11-23", "2026-11-22", "before it starts"),
    ("2025-01-01", "2026-11-23", "at most 366 days")])
def test_bad_ranges_are_named(first: str, last: str | None, says: str) -> None:
    with pytest.raises(RangeError, match=says):
        parse_range(first, last, MONDAY.date())


def test_default_range_is_today() -> None:
    assert parse_range(None, None, MONDAY.date()) == (MONDAY.date(), MONDAY.date())


def test_charts_carry_their_values_as_text() -> None:
    svg = hbars("Waiting", ["A 社保", "B 医保"], [Series("mean", [12.5, None])], unit=" min",
                limit=20)
    assert 'role="img"' in svg and "<title" in svg and "12.5 min" in svg
    assert "B 医保: none" in svg and 'class="limit"' in svg
    assert "&lt;b&gt;" in columns("<b>", ["09:00"], [Series("mean", [3.0])])
