"""The city overview when a hall has no estimate for a service (no window serves it now):
it says so, and such a hall comes after those with a known wait."""

from __future__ import annotations

import math
from datetime import datetime

from support.hall import SHANGHAI

from city.overview import HallEntry, ranking, table_text
from city.page import page_html
from protocol import messages as m

AT = datetime(2026, 11, 23, 8, 35, tzinfo=SHANGHAI)


def entry(hall: str, wait_a: float | None, wait_b: float | None) -> HallEntry:
    services = [m.ServiceSummary(service="A", name="社保", waiting=4, estimated_wait_min=wait_a),
                m.ServiceSummary(service="B", name="医保", waiting=2, estimated_wait_min=wait_b)]
    summary = m.HallSummary(hall=hall, name=f"{hall}中心", name_en=hall, at=AT,
                            counters_open=2, issued_today=6, served_today=0, services=services)
    return HallEntry(hall, summary, AT.timestamp(), True)


def test_an_unknown_wait_ranks_last_and_reads_not_yet_known() -> None:
    opening, busy = entry("opening", None, None), entry("busy", 40.0, 12.0)
    partly = entry("partly", None, 9.0)
    assert opening.wait_for("A") == math.inf and partly.wait_for(None) == 9.0
    assert [e.hall for e in ranking([opening, busy, partly], "A")] == ["busy", "opening",
                                                                      "partly"]
    assert [e.hall for e in ranking([opening, busy, partly])] == ["partly", "busy", "opening"]
    table = table_text([opening, busy], "A").splitlines()
    assert table[1].startswith("busy") and "40.0" in table[1]
    assert table[2].startswith("opening") and "not yet known" in table[2]
    page = page_html([opening, busy, partly], "A")
    assert page.count("待定 <span class=en>unknown") == 3  # opening's A and B, partly's A
    assert '<td class="best">9 ' in page and '<td class="best">40 ' in page
