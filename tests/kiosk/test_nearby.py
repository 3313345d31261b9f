"""The nearest centres on the idle screen, through the pure flow and view: fresh, stale, closed,
cleared and none configured, judged against the kiosk's own clock."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from kiosk.events import LanguageToggled, NearbyUpdated, Phase
from kiosk.flow import Flow
from kiosk.samples import SAMPLE_NOW, ready_flow, swiped
from kiosk.texts import Language
from kiosk.view import NEARBY_CURRENT_FOR, build_view, short_centre_name, typical_wait
from protocol.messages import HallSummary, ServiceSummary


def summary(hall: str = "xujiahui", name: str = "徐家汇街道", *, age: timedelta = timedelta(0),
            waits: tuple[tuple[int, float], ...] = ((6, 14.0), (4, 8.0)),
            counters_open: int = 9) -> HallSummary:
    return HallSummary(
        hall=hall, name=f"{name}社区事务受理服务中心",
        name_en=f"{hall.title()} Community Affairs Acceptance Centre", at=SAMPLE_NOW - age,
        counters_open=counters_open, issued_today=50, served_today=30,
        services=[ServiceSummary(service="ABCDEFG"[i], name="x", waiting=n, estimated_wait_min=w)
                  for i, (n, w) in enumerate(waits)])


def idle_with(*summaries: HallSummary) -> Flow:
    flow = ready_flow()
    for one in summaries:
        flow.step(NearbyUpdated(one.hall, one), SAMPLE_NOW)
    assert flow.phase is Phase.IDLE
    return flow


def test_no_nearby_centres_configured_shows_nothing() -> None:
    view = build_view(ready_flow(), SAMPLE_NOW)
    assert view.nearby == () and view.nearby_title == ""


def test_a_fresh_summary_shows_short_name_people_waiting_and_typical_wait() -> None:
    view = build_view(idle_with(summary()), SAMPLE_NOW)
    assert view.nearby_title == "附近中心"
    (centre,) = view.nearby
    assert (centre.hall, centre.name, centre.current) == ("xujiahui", "徐家汇街道", True)
    assert centre.waiting == "等候 10 人"
    assert centre.wait == "约 12 分钟"  # (6 x 14 + 4 x 8) / 10 = 11.6


def test_the_typical_wait_weights_each_service_by_its_people_waiting() -> None:
    assert typical_wait(summary(waits=((1, 30.0), (9, 2.0)))) == pytest.approx(4.8)
    assert typical_wait(summary(waits=((0, 0.0), (0, 0.0)))) == 0.0


def test_a_summary_older_than_three_minutes_on_the_kiosks_clock_is_not_current() -> None:
    flow = idle_with(summary(age=NEARBY_CURRENT_FOR))
    (centre,) = build_view(flow, SAMPLE_NOW).nearby
    assert centre.current and centre.wait == "约 12 分钟"
    (later,) = build_view(flow, SAMPLE_NOW + timedelta(seconds=1)).nearby
    assert not later.current
    assert (later.name, later.waiting, later.wait) == ("徐家汇街道", "", "暂无数据")


def test_a_summary_from_the_future_is_not_current_either() -> None:
    (centre,) = build_view(idle_with(summary(age=-timedelta(minutes=5))), SAMPLE_NOW).nearby
    assert not centre.current and centre.wait == "暂无数据"


def test_a_summary_from_an_earlier_day_is_not_shown() -> None:
    flow = idle_with(summary(age=timedelta(hours=10)), summary("hunanlu", "湖南路街道"))
    assert [c.hall for c in build_view(flow, SAMPLE_NOW).nearby] == ["hunanlu"]


def test_open_centres_come_first_shortest_wait_first_then_closed_then_stale() -> None:
    flow = idle_with(
        summary("a", "甲", age=timedelta(minutes=4), waits=((1, 1.0),)),
        summary("b", "乙", waits=((8, 20.0),)),
        summary("c", "丙", waits=((3, 5.0),)),
        summary("d", "丁", waits=((1, 1.0),), counters_open=0))
    view = build_view(flow, SAMPLE_NOW)
    assert [(c.hall, c.wait) for c in view.nearby] == [
        ("c", "约 5 分钟"), ("b", "约 20 分钟"), ("d", "暂无窗口开放"), ("a", "暂无数据")]


def test_nobody_waiting_reads_no_wait() -> None:
    (centre,) = build_view(idle_with(summary(waits=((0, 0.0),))), SAMPLE_NOW).nearby
    assert (centre.waiting, centre.wait) == ("等候 0 人", "无需等候")


def test_english_mode_uses_the_english_names_and_words() -> None:
    flow = idle_with(summary(), summary("fenglin", "枫林路街道", age=timedelta(minutes=9)))
    flow.step(LanguageToggled(), SAMPLE_NOW)
    view = build_view(flow, SAMPLE_NOW)
    assert view.language is Language.EN and view.nearby_title == "Nearby centres"
    assert [(c.name, c.waiting, c.wait) for c in view.nearby] == [
        ("Xujiahui", "10 waiting", "about 12 min"), ("Fenglin", "", "no data now")]


def test_a_cleared_summary_removes_the_centre_and_a_newer_one_replaces_it() -> None:
    flow = idle_with(summary(), summary("hunanlu", "湖南路街道"))
    flow.step(NearbyUpdated("xujiahui", None), SAMPLE_NOW)
    flow.step(NearbyUpdated("hunanlu", summary("hunanlu", "湖南路街道", waits=((2, 3.0),))),
              SAMPLE_NOW)
    assert [(c.hall, c.wait) for c in build_view(flow, SAMPLE_NOW).nearby] == [
        ("hunanlu", "约 3 分钟")]


def test_only_the_idle_screen_shows_them() -> None:
    flow = swiped(idle_with(summary()))
    assert flow.phase is Phase.CHOOSING
    assert build_view(flow, SAMPLE_NOW).nearby == ()


@pytest.mark.parametrize(("name", "short"), [
    ("天平街道社区事务受理服务中心", "天平街道"),
    ("Tianping Community Affairs Acceptance Centre", "Tianping"),
    ("社区事务受理服务中心", "社区事务受理服务中心"),
    ("徐汇区行政服务中心", "徐汇区行政服务中心"),
])
def test_short_centre_names(name: str, short: str) -> None:
    assert short_centre_name(name) == short


def test_the_hall_clock_decides_today() -> None:
    """SAMPLE_NOW is 09:41 in Shanghai; a summary at 23:59 the evening before is yesterday's."""
    evening = datetime(2026, 3, 15, 23, 59, tzinfo=SAMPLE_NOW.tzinfo)
    flow = idle_with(summary(age=SAMPLE_NOW - evening))
    assert build_view(flow, SAMPLE_NOW).nearby == ()
