"""Every resident of a demo day is accounted for, and the ticket fates add up to issued."""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

from demo.summary import figures, whole_line
from demo.tally import AT_WINDOW, NO_SHOW, NOT_SERVED, SERVED, WAITING, DayTotals, Tally
from protocol import messages as m

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 3, 9, 0, tzinfo=SHANGHAI)
CLOSING = re.compile(r": (\d+) residents: (\d+) issued \((\d+) served, (\d+) no-show, "
                     r"(\d+) not served\), (\d+) refused(?: \(([^)]*)\))?, (\d+) left without "
                     r"a ticket(?: \(([^)]*)\))?(?:, (\d+) still at a kiosk)?;")


def a_day() -> Tally:
    """Sixteen tickets: eight served, two no-shows, three at a window, three waiting; two
    residents refused, one gone without a ticket, one still at a kiosk."""
    tally = Tally()
    tally.start_day(date(2026, 12, 3))
    for n in range(20):
        tally.arrive()
        if n < 16:
            tally.numbered(f"A{n + 1:03d}")
            tally.issue(f"20261203-A{n:03d}", NOW.timestamp())
    for n in range(13):
        tally.move(f"20261203-A{n:03d}", AT_WINDOW)
    for n in range(8):
        tally.move(f"20261203-A{n:03d}", SERVED)
    for n in (8, 9):
        tally.move(f"20261203-A{n:03d}", NO_SHOW)
    tally.refuse("quota_exhausted")
    tally.refuse("closed")
    tally.leave("no kiosk in service")
    return tally


def test_waiting_counts_only_tickets_not_yet_called() -> None:
    tally = a_day()
    counts = {fate: tally.count(fate) for fate in (WAITING, AT_WINDOW, SERVED, NO_SHOW)}
    assert counts == {WAITING: 3, AT_WINDOW: 3, SERVED: 8, NO_SHOW: 2}
    assert sum(counts.values()) + tally.count(NOT_SERVED) == tally.totals.issued == 16
    assert tally.at_kiosk == 1
    assert tally.first_ticket == "A001"
    line = whole_line(figures(NOW, tally))
    assert "waiting 3  at a window 3  served 8  no-show 2  not served 0  = issued 16" in line
    assert "at the kiosks 1  refused 2  left 1" in line


def test_closing_the_day_leaves_open_tickets_not_served_and_every_resident_counted() -> None:
    tally = a_day()
    assert tally.settle() == 6
    assert tally.open_tickets == 0
    found = CLOSING.search(tally.totals.closing_line("Day over"))
    assert found is not None
    arrived, issued, served, no_show, not_served, refused, why, left, gone, still = found.groups()
    assert (int(served), int(no_show), int(not_served)) == (8, 2, 6)
    assert int(issued) == int(served) + int(no_show) + int(not_served)
    assert int(arrived) == int(issued) + int(refused) + int(left) + int(still)
    assert int(still) == 1
    assert why == "quota_exhausted: 1, closed: 1" and gone == "no kiosk in service: 1"
    assert "left without a ticket (no kiosk in service: 1), 1 still at a kiosk;" in (
        tally.totals.closing_line("Stopped"))


def test_days_add_up() -> None:
    one, two = a_day(), a_day()
    total = one.totals + two.totals + DayTotals()
    assert (total.arrived, total.issued, sum(total.refused.values())) == (40, 32, 4)
    assert total.fates[SERVED] == 16


def test_the_display_counts_gaps_in_the_call_sequence_and_first_calls_waits() -> None:
    tally = a_day()
    for seq, recall in ((1, False), (2, True), (4, False)):
        tally.heard_call(m.CallEvent(seq=seq, ticket="20261203-A000", number="A001", service="A",
                                     counter="1", counter_name="1号窗口", recall=recall,
                                     at=NOW.replace(minute=6)))
    assert tally.totals.seq_gaps == 1
    assert tally.totals.waits_min == [6.0, 6.0]
