"""The kiosk's flow as a pure state machine: the resident's path, timeouts, language, help."""

from __future__ import annotations

from datetime import timedelta

from kiosk.events import (
    Answered,
    Back,
    CardFailed,
    CardRead,
    CheckPrinter,
    HallUpdated,
    HelpRequested,
    LanguageToggled,
    LinkChanged,
    NoAnswer,
    Phase,
    Printed,
    PrinterChecked,
    PrintTicket,
    PublishHealth,
    Send,
    ServicePicked,
    Show,
    Speak,
    Tick,
)
from kiosk.flow import Flow, FlowSettings
from kiosk.samples import (
    ELDER,
    RESIDENT,
    SAMPLE_NOW,
    elder_lookup,
    ids,
    issue_reply,
    issued,
    picked,
    ready_flow,
    sample_hall,
    swiped,
)
from kiosk.texts import Language
from kiosk.view import build_view
from protocol.messages import IssueTicket, Lookup, PrinterHealth, TicketPrinted

NOW = SAMPLE_NOW


def later(seconds: float) -> object:
    return NOW + timedelta(seconds=seconds)


def sends(effects: list[object]) -> list[Send]:
    return [e for e in effects if isinstance(e, Send)]


def test_out_of_service_until_connected_and_the_hall_is_known() -> None:
    flow = Flow(FlowSettings(), new_id=ids())
    assert flow.step(Tick(), NOW) == []
    assert flow.phase is Phase.OUT_OF_SERVICE
    assert flow.faults == ["fault.starting"]
    flow.step(LinkChanged(True), NOW)
    assert flow.phase is Phase.OUT_OF_SERVICE
    effects = flow.step(HallUpdated(sample_hall()), NOW)
    assert flow.phase is Phase.IDLE
    assert Show(Phase.IDLE) in effects
    health = flow.step(PrinterChecked(PrinterHealth.OK), NOW)
    assert [e.health.ok for e in health if isinstance(e, PublishHealth)] == [True]


def test_a_swipe_asks_the_controller_with_the_hash_only() -> None:
    flow = ready_flow()
    effects = flow.step(CardRead(RESIDENT), NOW)
    assert flow.phase is Phase.READING
    (send,) = sends(effects)
    assert send.name == "lookup"
    assert send.command == Lookup(id="cmd-000001", id_hash=RESIDENT.id_hash)
    assert build_view(flow, NOW).title == "正在读卡，请稍候…"


def test_the_whole_path_confirms_before_it_prints_and_reports_the_print() -> None:
    flow = swiped(ready_flow())
    assert flow.phase is Phase.CHOOSING
    assert flow.step(ServicePicked("A"), NOW) == [CheckPrinter(), Show(Phase.CONFIRMING)]
    effects = flow.step(PrinterChecked(PrinterHealth.OK), NOW)
    (issue,) = sends(effects)
    assert issue.name == "issue" and not issue.retry
    assert issue.command == IssueTicket(id=issue.command.id, service="A",
                                        id_hash=RESIDENT.id_hash, green=False)
    effects = flow.step(Answered(issue_reply(issue.command.id)), NOW)
    (printing,) = [e for e in effects if isinstance(e, PrintTicket)]
    assert printing.ticket.number == "A013" and flow.phase is Phase.PRINTING
    effects = flow.step(Printed("20260316-A013"), NOW)
    (printed,) = sends(effects)
    assert printed.retry and printed.command == TicketPrinted(id=printed.command.id,
                                                              ticket="20260316-A013")
    assert flow.awaiting == {printed.command.id: "printed"}
    view = build_view(flow, NOW)
    assert (view.phase, view.title, view.number) == (Phase.DONE, "请取票", "A013")
    assert view.lines[0] == "前面还有 5 人，约 12 分钟"


def test_english_is_one_tap_away_and_resets_after_the_resident_leaves() -> None:
    flow = issued(picked(swiped(ready_flow())))
    flow.step(Printed("20260316-A013"), NOW)
    flow.step(LanguageToggled(), NOW)
    view = build_view(flow, NOW)
    assert view.title == "Please take your ticket"
    assert view.lines[0] == "5 ahead of you, about 12 minutes"
    assert view.switch_language == "中文"
    flow.step(Tick(), later(9))
    assert flow.phase is Phase.DONE
    flow.step(Tick(), later(10))
    assert flow.phase is Phase.IDLE and flow.language is Language.ZH


def test_the_done_button_and_the_choosing_timeout_return_to_idle() -> None:
    flow = issued(picked(swiped(ready_flow())))
    flow.step(Printed("20260316-A013"), NOW)
    flow.step(Back(), NOW)
    assert flow.phase is Phase.IDLE and flow.session is None
    swiped(flow, ELDER)
    flow.step(Tick(), later(29))
    assert flow.phase is Phase.CHOOSING
    flow.step(Tick(), later(30))
    assert flow.phase is Phase.IDLE and flow.session is None


def test_a_bad_read_asks_to_swipe_again() -> None:
    flow = ready_flow()
    flow.step(CardFailed("card removed during read"), NOW)
    view = build_view(flow, NOW)
    assert (view.phase, view.title) == (Phase.NOTICE, "读卡失败")
    assert view.back == "返回"
    flow.step(Tick(), later(12))
    assert flow.phase is Phase.IDLE


def test_a_card_that_is_not_valid_sends_the_resident_to_staff() -> None:
    flow = ready_flow()
    flow.step(CardFailed("bad check character", unusable=True), NOW)
    assert build_view(flow, NOW).title == "无法识别此证件"


def test_green_residents_get_the_green_channel() -> None:
    flow = swiped(ready_flow(), ELDER)
    assert build_view(flow, NOW).badge == "绿色通道 · 优先办理"
    flow.step(ServicePicked("A"), NOW)
    (issue,) = sends(flow.step(PrinterChecked(PrinterHealth.OK), NOW))
    assert isinstance(issue.command, IssueTicket) and issue.command.green


def test_an_appointment_is_offered_first_and_checked_in() -> None:
    flow = swiped(ready_flow(), ELDER, elder_lookup())
    offer = build_view(flow, NOW).appointment
    assert offer is not None and offer.enabled
    assert offer.label == "预约签到  10:00 · 社会救助与助老助残"
    flow.step(ServicePicked("C", appointment=True), NOW)
    (issue,) = sends(flow.step(PrinterChecked(PrinterHealth.OK), NOW))
    assert isinstance(issue.command, IssueTicket)
    assert (issue.command.service, issue.command.appointment) == ("C", True)


def test_an_appointment_outside_its_window_is_explained_not_sent() -> None:
    early = NOW.replace(hour=9, minute=10)
    flow = swiped(ready_flow(early), ELDER, elder_lookup(), now=early)
    offer = build_view(flow, early).appointment
    assert offer is not None and not offer.enabled
    assert offer.label == "您预约了 10:00，请于 09:30 后签到"
    assert flow.step(ServicePicked("C", appointment=True), early) == [
        Show(Phase.NOTICE), Speak("notice outside_window", (("kiosk_outside_window",),))]
    view = build_view(flow, early)
    assert (view.title, view.lines) == ("不在签到时间", ("请在 09:30 至 10:15 之间签到",))


def test_no_answer_to_a_lookup_says_so() -> None:
    flow = ready_flow()
    flow.step(CardRead(RESIDENT), NOW)
    flow.step(NoAnswer("cmd-000001", "no reply within 3 s"), NOW)
    view = build_view(flow, NOW)
    assert (view.title, view.lines) == ("系统暂无响应", ("本次未出票，请稍后再试或咨询工作人员",))


def test_no_answer_to_an_issue_prints_nothing_and_voids_a_late_confirmation() -> None:
    flow = picked(swiped(ready_flow()))
    assert flow.session is not None and flow.session.issue is not None
    issue = flow.session.issue
    effects = flow.step(NoAnswer(issue.id, "no reply within 3 s"), NOW)
    assert not [e for e in effects if isinstance(e, PrintTicket)]
    (retry,) = sends(effects)
    assert retry.retry and retry.command == issue  # the same id: the controller dedupes
    assert build_view(flow, NOW).title == "系统暂无响应"
    effects = flow.step(Answered(issue_reply(issue.id)), later(5))
    (void,) = sends(effects)
    assert void.name == "void" and void.retry
    assert void.command.ticket == "20260316-A013"  # type: ignore[attr-defined]
    assert flow.phase is Phase.NOTICE and not flow.unsettled
    assert flow.awaiting == {void.command.id: "void"}


def test_a_link_drop_takes_the_idle_kiosk_out_of_service_until_it_returns() -> None:
    flow = ready_flow()
    flow.step(LinkChanged(False), NOW)
    view = build_view(flow, NOW)
    assert (view.phase, view.title) == (Phase.OUT_OF_SERVICE, "暂停服务")
    assert view.lines[0] == "系统连接中断，正在恢复"
    assert flow.step(CardRead(RESIDENT), NOW) == []
    flow.step(LinkChanged(True), NOW)
    assert flow.phase is Phase.IDLE


def test_help_is_always_one_tap_away_and_back_returns_to_the_list() -> None:
    flow = swiped(ready_flow())
    (call_staff,) = sends(flow.step(HelpRequested(), NOW))
    assert call_staff.name == "help" and call_staff.retry
    view = build_view(flow, NOW)
    assert view.title == "需要帮助？"
    assert "没有身份证、没有智能手机，也可以办理" in view.lines
    flow.step(Back(), NOW)
    assert flow.phase is Phase.CHOOSING
    flow.step(Back(), NOW)
    flow.step(HelpRequested(), NOW)
    flow.step(Tick(), later(60))
    assert flow.phase is Phase.IDLE


def test_a_new_card_during_choosing_starts_a_new_session() -> None:
    flow = swiped(ready_flow())
    assert flow.step(CardRead(RESIDENT), NOW) == []
    effects = flow.step(CardRead(ELDER), NOW)
    (lookup,) = sends(effects)
    assert lookup.command == Lookup(id=lookup.command.id, id_hash=ELDER.id_hash)
    assert flow.phase is Phase.READING


def test_the_same_resident_can_swipe_again_for_another_service() -> None:
    flow = issued(picked(swiped(ready_flow())))
    flow.step(Printed("20260316-A013"), NOW)
    (lookup,) = sends(flow.step(CardRead(RESIDENT), NOW))
    assert lookup.name == "lookup" and flow.phase is Phase.READING


def test_an_issue_that_never_left_the_kiosk_needs_no_settling() -> None:
    flow = picked(swiped(ready_flow()))
    assert flow.session is not None and flow.session.issue is not None
    effects = flow.step(NoAnswer(flow.session.issue.id, "not connected", sent=False), NOW)
    assert sends(effects) == [] and not flow.unsettled and not flow.awaiting
    assert build_view(flow, NOW).title == "系统暂无响应"
