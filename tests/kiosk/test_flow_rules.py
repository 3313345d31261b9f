"""The hall's rules as the kiosk shows them, and the printer's faults, in the pure flow."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from kiosk.events import (
    Answered,
    Back,
    LanguageToggled,
    Phase,
    Printed,
    PrinterChecked,
    PrintFailed,
    PublishHealth,
    ReaderChanged,
    Send,
    ServicePicked,
    Show,
    Speak,
    Tick,
)
from kiosk.flow import FlowSettings
from kiosk.samples import (
    ELDER,
    SAMPLE_NOW,
    elder_lookup,
    issued,
    picked,
    ready_flow,
    refusal,
    swiped,
)
from kiosk.view import build_view
from protocol.messages import ErrorCode, PrinterHealth, VoidTicket

NOW = SAMPLE_NOW
TICKET = "20260316-A013"


def at(hour: int, minute: int) -> datetime:
    return NOW.replace(hour=hour, minute=minute)


def health(effects: list[object]) -> list[tuple[bool, PrinterHealth | None]]:
    return [(e.health.ok, e.health.printer) for e in effects if isinstance(e, PublishHealth)]


def voids(effects: list[object]) -> list[VoidTicket]:
    return [e.command for e in effects
            if isinstance(e, Send) and isinstance(e.command, VoidTicket) and e.retry]


@pytest.mark.parametrize(("code", "now", "title", "body"), [
    (ErrorCode.QUOTA_EXHAUSTED, NOW, "今日已满", "医疗保险今日号已取完，请明天再来或咨询工作人员"),
    (ErrorCode.CLOSED, at(8, 10), "尚未开始取号", "医疗保险今日 08:30 开始取号"),
    (ErrorCode.CLOSED, at(16, 5), "今日取号已结束", "医疗保险今日最后取号时间为 16:00"),
    (ErrorCode.CLOSED, NOW, "暂停取号", "医疗保险暂停取号，请咨询工作人员"),
    (ErrorCode.ALREADY_HOLDS, NOW, "您已取过号", "您已持有医疗保险的号，请留意叫号"),
    (ErrorCode.NO_APPOINTMENT, NOW, "未找到预约", "今天没有您的医疗保险预约，可以现场取号"),
    (ErrorCode.INTERNAL, NOW, "暂时无法取号", "请咨询工作人员"),
])
def test_each_refusal_gets_a_clear_message(code: ErrorCode, now: datetime, title: str,
                                           body: str) -> None:
    flow = swiped(ready_flow(NOW))
    picked(flow, "B")
    assert flow.session is not None and flow.session.issue is not None
    effects = flow.step(Answered(refusal(flow.session.issue.id, code, "refused")), now)
    assert not [e for e in effects if isinstance(e, Send)]
    view = build_view(flow, now)
    assert (view.phase, view.title, view.lines) == (Phase.NOTICE, title, (body,))
    assert view.back == "选择其他业务"


def test_a_refusal_reads_in_english_too_and_back_returns_to_the_list() -> None:
    flow = picked(swiped(ready_flow()), "B")
    assert flow.session is not None and flow.session.issue is not None
    flow.step(Answered(refusal(flow.session.issue.id, ErrorCode.QUOTA_EXHAUSTED, "x")), NOW)
    flow.step(LanguageToggled(), NOW)
    view = build_view(flow, NOW)
    assert view.title == "Today's tickets are all taken"
    assert view.lines == ("All of today's tickets for Medical insurance are taken; please come "
                          "back tomorrow or ask staff",)
    flow.step(Back(), NOW)
    assert flow.phase is Phase.CHOOSING


def test_outside_window_names_the_window() -> None:
    flow = swiped(ready_flow(), ELDER, elder_lookup())
    flow.step(ServicePicked("C", appointment=True), NOW)
    flow.step(PrinterChecked(PrinterHealth.OK), NOW)
    assert flow.session is not None and flow.session.issue is not None
    reply = refusal(flow.session.issue.id, ErrorCode.OUTSIDE_WINDOW, "late")
    flow.step(Answered(reply), NOW)
    assert build_view(flow, NOW).lines == ("请在 09:30 至 10:15 之间签到",)


def test_a_held_ticket_is_shown_and_not_sent_again() -> None:
    flow = swiped(ready_flow(), ELDER, elder_lookup())
    buttons = {b.service: b for b in build_view(flow, NOW).services}
    assert (buttons["B"].enabled, buttons["B"].status) == (False, "您已取号 B007")
    assert flow.step(ServicePicked("B"), NOW) == [
        Show(Phase.NOTICE), Speak("notice already_holds", (("kiosk_already_holds",),))]
    assert build_view(flow, NOW).lines == ("您已持有医疗保险的号 B007，请留意叫号",)


def test_a_full_service_says_today_is_full_before_anyone_touches_it() -> None:
    flow = swiped(ready_flow())
    buttons = {b.service: b for b in build_view(flow, NOW).services}
    assert (buttons["F"].enabled, buttons["F"].status) == (False, "今日已满")
    assert (buttons["A"].enabled, buttons["A"].status) == (True, "")
    flow.step(ServicePicked("F"), NOW)
    assert build_view(flow, NOW).title == "今日已满"


@pytest.mark.parametrize(("now", "status_zh", "status_en"), [
    (at(8, 29), "08:30 开始取号", "Tickets from 08:30"),
    (at(16, 0), "今日取号已结束", "No more tickets today"),
])
def test_opening_hours_and_the_last_ticket_time_grey_the_services_out(
        now: datetime, status_zh: str, status_en: str) -> None:
    flow = swiped(ready_flow(now), now=now)
    assert {b.status for b in build_view(flow, now).services} == {status_zh}
    assert not any(b.enabled for b in build_view(flow, now).services)
    flow.step(LanguageToggled(), now)
    assert {b.status for b in build_view(flow, now).services} == {status_en}
    flow.step(ServicePicked("A"), now)
    assert flow.phase is Phase.NOTICE and flow.session is not None and flow.session.issue is None


@pytest.mark.parametrize(("fault", "line"), [
    (PrinterHealth.PAPER_OUT, "打印机缺纸"),
    (PrinterHealth.OFFLINE, "打印机离线"),
    (PrinterHealth.ERROR, "打印机故障"),
])
def test_a_failed_print_voids_the_ticket_and_takes_the_kiosk_out_of_service(
        fault: PrinterHealth, line: str) -> None:
    flow = issued(picked(swiped(ready_flow())))
    effects = flow.step(PrintFailed(TICKET, fault, "simulated"), NOW)
    assert [v.ticket for v in voids(effects)] == [TICKET]
    assert health(effects) == [(False, fault)]
    view = build_view(flow, NOW)
    assert (view.phase, view.title, view.alarm) == (Phase.OUT_OF_SERVICE, "暂停服务", True)
    assert view.lines[:2] == (line, "您的号未能打印，已作废，工作人员会为您重新取号")


def test_the_kiosk_recovers_once_the_printer_has_been_well_for_a_while() -> None:
    flow = issued(picked(swiped(ready_flow(settings=FlowSettings(recovery_s=10)))))
    flow.step(PrintFailed(TICKET, PrinterHealth.PAPER_OUT, "out of paper"), NOW)
    assert health(flow.step(PrinterChecked(PrinterHealth.OK), NOW + timedelta(seconds=1))) == []
    flow.step(Tick(), NOW + timedelta(seconds=10))
    assert flow.phase is Phase.OUT_OF_SERVICE
    effects = flow.step(Tick(), NOW + timedelta(seconds=11))
    assert flow.phase is Phase.IDLE
    assert health(effects) == [(True, PrinterHealth.OK)]


def test_a_printer_that_fails_its_check_gets_no_ticket_issued() -> None:
    flow = swiped(ready_flow())
    flow.step(ServicePicked("A"), NOW)
    effects = flow.step(PrinterChecked(PrinterHealth.OFFLINE, "no answer"), NOW)
    assert not [e for e in effects if isinstance(e, Send)]
    assert flow.phase is Phase.OUT_OF_SERVICE
    assert health(effects) == [(False, PrinterHealth.OFFLINE)]


def test_paper_low_after_a_ticket_lets_the_resident_finish_then_stops() -> None:
    flow = issued(picked(swiped(ready_flow())))
    effects = flow.step(Printed(TICKET, PrinterHealth.PAPER_LOW), NOW)
    assert flow.phase is Phase.DONE
    assert health(effects) == [(False, PrinterHealth.PAPER_LOW)]
    flow.step(Tick(), NOW + timedelta(seconds=10))
    assert flow.phase is Phase.OUT_OF_SERVICE
    assert build_view(flow, NOW).lines[0] == "打印纸即将用完"


def test_paper_low_can_be_allowed_by_the_settings() -> None:
    flow = ready_flow(settings=FlowSettings(paper_low_stops=False))
    effects = flow.step(PrinterChecked(PrinterHealth.PAPER_LOW), NOW)
    assert flow.phase is Phase.IDLE
    assert health(effects) == [(True, PrinterHealth.PAPER_LOW)]


def test_a_print_that_never_finishes_is_voided() -> None:
    flow = issued(picked(swiped(ready_flow())))
    assert voids(flow.step(Tick(), NOW + timedelta(seconds=19))) == []
    effects = flow.step(Tick(), NOW + timedelta(seconds=20))
    assert [v.ticket for v in voids(effects)] == [TICKET]
    assert flow.phase is Phase.OUT_OF_SERVICE
    assert flow.step(Printed(TICKET), NOW + timedelta(seconds=21)) == []


def test_a_ticket_that_cannot_be_drawn_is_voided_without_blaming_the_printer() -> None:
    flow = issued(picked(swiped(ready_flow())))
    effects = flow.step(PrintFailed(TICKET, None, "cannot print without token"), NOW)
    assert [v.ticket for v in voids(effects)] == [TICKET]
    assert health(effects) == []
    assert build_view(flow, NOW).title == "暂时无法出票"


def test_a_reader_fault_is_published_and_clears_when_the_reader_is_back() -> None:
    flow = ready_flow()
    effects = flow.step(ReaderChanged(False, "no answer on /dev/ttyUSB0"), NOW)
    (report,) = [e.health for e in effects if isinstance(e, PublishHealth)]
    assert (report.ok, report.reader, report.detail) == (False, False,
                                                          "no answer on /dev/ttyUSB0")
    assert flow.phase is Phase.OUT_OF_SERVICE
    effects = flow.step(ReaderChanged(True), NOW)
    assert health(effects) == [(True, PrinterHealth.OK)] and flow.phase is Phase.IDLE
