"""A kiosk never goes back to a service or hall snapshot older (business day, rev) than the
one in hand when the broker hands it back from an older save; one just published is current."""

from __future__ import annotations

import pytest

from kiosk.events import HallUpdated, ServiceUpdated
from kiosk.flow import Flow
from kiosk.samples import SAMPLE_NOW, ready_flow, sample_services
from protocol import messages as m

TODAY = SAMPLE_NOW.date().isoformat()


def service_a(waiting: int, rev: int, day: str | None = TODAY) -> m.ServiceState:
    state = next(s for s in sample_services() if s.service == "A")
    return state.model_copy(update={"waiting": waiting, "day": day, "rev": rev})


def holding(state: m.ServiceState) -> Flow:
    flow = ready_flow()
    flow.step(ServiceUpdated(state), SAMPLE_NOW)
    return flow


@pytest.mark.parametrize(("offered", "retained", "taken"), [
    (service_a(9, 11), True, False),  # the broker's older save
    (service_a(9, 11), False, True),  # just published by the controller: current
    (service_a(9, 12), True, True),
    (service_a(9, 13), True, True),
    (service_a(9, 400, "2026-01-01"), True, False),  # an earlier day
    (service_a(9, 0, None), True, True),  # no rev: not comparable
])
def test_an_older_retained_service_snapshot_is_dropped(
        offered: m.ServiceState, retained: bool, taken: bool) -> None:
    flow = holding(service_a(5, 12))
    flow.step(ServiceUpdated(offered, retained), SAMPLE_NOW)
    assert flow.services["A"].waiting == (9 if taken else 5)


def test_an_older_retained_hall_snapshot_is_dropped() -> None:
    flow = ready_flow()
    assert flow.hall is not None
    now = flow.hall.model_copy(update={"notice": "今天", "rev": 30})
    flow.step(HallUpdated(now), SAMPLE_NOW)
    flow.step(HallUpdated(now.model_copy(update={"notice": "旧的", "rev": 29}), True), SAMPLE_NOW)
    assert flow.hall.notice == "今天"
    flow.step(HallUpdated(now.model_copy(update={"notice": "新的", "rev": 31}), True), SAMPLE_NOW)
    assert flow.hall.notice == "新的"
