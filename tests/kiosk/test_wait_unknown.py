"""The kiosk when no window serves a service yet (estimated_wait_min None): it says the wait
is not yet known, in both languages, on the service buttons, the ticket screen and the
nearby centres, and never shows a number or "no wait"."""

from __future__ import annotations

from kiosk.events import LanguageToggled, NearbyUpdated, Phase, Printed, ServiceUpdated
from kiosk.flow import Flow
from kiosk.samples import SAMPLE_NOW, issued, picked, ready_flow, sample_services, swiped
from kiosk.view import build_view, typical_wait
from protocol.messages import HallSummary, ServiceSummary


def unknown_for(flow: Flow, *services: str) -> Flow:
    """The hall publishes these services with no estimate (nobody serves them now)."""
    for state in sample_services():
        if state.service in services:
            flow.step(ServiceUpdated(state.model_copy(update={"estimated_wait_min": None})),
                      SAMPLE_NOW)
    return flow


def test_a_service_nobody_serves_says_its_wait_is_not_yet_known_in_both_languages() -> None:
    flow = unknown_for(ready_flow(), "A", "D")  # D: nobody waiting, and yet no "no wait"
    buttons = {b.service: b.wait for b in build_view(flow, SAMPLE_NOW).services}
    assert buttons["A"] == buttons["D"] == "等候时间待定"
    assert {buttons[s][:2] for s in "BCEG"} == {"约 "} and buttons["F"] == ""  # F: today full
    flow.step(LanguageToggled(), SAMPLE_NOW)
    english = {b.service: b.wait for b in build_view(flow, SAMPLE_NOW).services}
    assert english["A"] == english["D"] == "wait not yet known"


def done_screen(ahead: int) -> tuple[str, ...]:
    flow = issued(picked(swiped(ready_flow())), ahead=ahead, wait=None)
    assert flow.session is not None and flow.session.ticket is not None
    flow.step(Printed(flow.session.ticket.ticket), SAMPLE_NOW)
    view = build_view(flow, SAMPLE_NOW)
    assert view.phase is Phase.DONE
    lines: tuple[str, ...] = view.lines
    return lines


def test_the_ticket_screen_gives_the_place_in_line_and_no_promise() -> None:
    assert done_screen(2)[0] == "前面还有 2 人，等候时间待定"
    assert done_screen(0)[0] == "前面没有人，等候时间待定"


def centre(hall: str, waits: list[tuple[int, float | None]]) -> HallSummary:
    return HallSummary(hall=hall, name=f"{hall}街道社区事务受理服务中心", name_en=hall,
                       at=SAMPLE_NOW, counters_open=3, issued_today=10, served_today=5,
                       services=[ServiceSummary(service="AB"[i], name="x", waiting=n,
                                                estimated_wait_min=w)
                                 for i, (n, w) in enumerate(waits)])


def test_a_nearby_centre_with_no_known_wait_says_so_and_comes_after_the_others() -> None:
    unknown = centre("kangjian", [(5, None), (0, None)])
    partly = centre("xujiahui", [(4, None), (6, 30.0)])
    assert typical_wait(unknown) is None
    assert typical_wait(partly) == 30.0  # of the services with a known wait
    assert typical_wait(centre("tianlin", [(0, None), (0, 8.0)])) == 0.0  # nobody waits
    flow = ready_flow()
    for one in (unknown, partly):
        flow.step(NearbyUpdated(one.hall, one), SAMPLE_NOW)
    shown = [(c.hall, c.wait) for c in build_view(flow, SAMPLE_NOW).nearby]
    assert shown == [("xujiahui", "约 30 分钟"), ("kangjian", "等候时间待定")]
