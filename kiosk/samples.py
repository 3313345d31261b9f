"""A sample hall morning and the kiosk driven into each of its screens, for screenshots and tests.

Every sample is reached through the real flow (`Flow.step`), so a screenshot shows a state
the kiosk can really be in. The hall is the example hall (examples/hall.toml) at 09:41 on a
Monday; nothing here is personal (the resident is a fixed hash).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from itertools import count
from typing import TypedDict, Unpack
from zoneinfo import ZoneInfo

from kiosk.events import (
    Answered,
    CardRead,
    Event,
    HallUpdated,
    HelpRequested,
    LanguageToggled,
    LinkChanged,
    NearbyUpdated,
    Printed,
    PrinterChecked,
    PrintFailed,
    ServicePicked,
    ServiceUpdated,
)
from kiosk.flow import Flow, FlowSettings
from kiosk.identity import Resident
from protocol.messages import (
    Channel,
    ErrorCode,
    ErrorInfo,
    HallState,
    HallSummary,
    LookupResult,
    PrinterHealth,
    Reply,
    ServiceInfo,
    ServiceState,
    ServiceSummary,
    TicketResult,
    TicketStatus,
    TicketView,
)

TZ = ZoneInfo("Asia/Shanghai")
SAMPLE_NOW = datetime(2026, 3, 16, 9, 41, tzinfo=TZ)
RESIDENT = Resident(id_hash="5e" * 32, green=False)
ELDER = Resident(id_hash="7a" * 32, green=True)

_SERVICES = (
    ("A", "社会保险与就业", "Social insurance & employment", 160, 12, 18.4, None),
    ("B", "医疗保险", "Medical insurance", 120, 7, 9.2, None),
    ("C", "社会救助与助老助残", "Social assistance, elderly & disability", 70, 3, 14.0, None),
    ("D", "婚育与计划生育", "Marriage, birth & family planning", 60, 0, 0.0, None),
    ("E", "居住证与来沪登记", "Residence permit & registration", 110, 9, 11.5, None),
    ("F", "敬老卡与社保卡", "Senior card & social security card", 100, 5, 6.0, 0),
    ("G", "房屋租赁及其他", "Housing lease & other items", 80, 4, 12.8, None),
)


def sample_hall() -> HallState:
    """The example hall's retained state on a Monday."""
    return HallState(
        hall="tianping", name="天平街道社区事务受理服务中心",
        name_en="Tianping Community Affairs Acceptance Centre", timezone="Asia/Shanghai",
        date=SAMPLE_NOW.date().isoformat(), open_at="08:30", close_at="16:30", notice="",
        green_age=70, status_url_base="http://127.0.0.1:8080/t/", counters=[],
        services=[ServiceInfo(id=sid, name=name, name_en=name_en, daily_quota=quota,
                              last_ticket="16:00")
                  for sid, name, name_en, quota, *_ in _SERVICES])


def sample_services(now: datetime = SAMPLE_NOW) -> list[ServiceState]:
    """Queues of a busy morning; service F has used up its daily quota (今日已满)."""
    states = []
    for sid, _name, _name_en, quota, waiting, wait, left in _SERVICES:
        issued_today = quota if left == 0 else 40
        states.append(ServiceState(service=sid, waiting=waiting, estimated_wait_min=wait,
                                   longest_wait_min=wait * 1.5, issued_today=issued_today,
                                   quota_left=quota - issued_today, intake_open=True,
                                   updated=now))
    return states


_NEARBY = (  # hall id, name, English name, minutes old, (service, waiting, wait) ...
    ("xujiahui", "徐家汇街道", "Xujiahui Subdistrict", 1,
     (("A", 6, 14.0), ("B", 4, 8.0), ("E", 5, 10.0), ("F", 2, 4.0))),
    ("hunanlu", "湖南路街道", "Hunan Road Subdistrict", 0,
     (("A", 2, 5.0), ("B", 1, 3.0), ("F", 1, 2.0))),
    ("fenglin", "枫林路街道", "Fenglin Road Subdistrict", 10, (("A", 9, 21.0),)),
)


def sample_nearby(now: datetime = SAMPLE_NOW) -> list[HallSummary]:
    """Three nearby centres: two with current figures, one last heard of 10 minutes ago."""
    return [HallSummary(
        hall=hall, name=f"{name}社区事务受理服务中心",
        name_en=f"{name_en} Community Affairs Acceptance Centre",
        at=now - timedelta(minutes=age), counters_open=9, issued_today=80, served_today=60,
        services=[ServiceSummary(service=sid, name=sid, waiting=waiting, estimated_wait_min=wait)
                  for sid, waiting, wait in services])
        for hall, name, name_en, age, services in _NEARBY]


def ids() -> Callable[[], str]:
    """Deterministic command ids: cmd-000001, cmd-000002 ..."""
    numbers: Iterator[int] = count(1)
    return lambda: f"cmd-{next(numbers):06d}"


def ready_flow(now: datetime = SAMPLE_NOW, settings: FlowSettings | None = None) -> Flow:
    """A kiosk that is connected, knows the hall, and has a healthy printer: idle."""
    flow = Flow(settings or FlowSettings(), new_id=ids())
    events: list[Event] = [LinkChanged(True), HallUpdated(sample_hall()),
                           PrinterChecked(PrinterHealth.OK)]
    events += [ServiceUpdated(state) for state in sample_services(now)]
    for event in events:
        flow.step(event, now)
    return flow


def lookup_reply(command_id: str, lookup: LookupResult | None = None) -> Reply:
    """The controller's answer to a lookup."""
    result = lookup or LookupResult(open_tickets=[])
    return Reply(id=command_id, ok=True, result=result.model_dump(mode="json"))


class IssueDetails(TypedDict, total=False):
    """What a sample issue reply may change: issue_reply's keyword arguments."""

    number: str
    ahead: int | None
    wait: float | None
    channel: Channel


def issue_reply(command_id: str, number: str = "A013", ahead: int | None = 5,
                wait: float | None = 12.4, channel: Channel = Channel.NORMAL) -> Reply:
    """The controller's confirmation of an issued ticket, pending its print."""
    ticket = TicketView(ticket=f"{SAMPLE_NOW:%Y%m%d}-{number}", number=number,
                        service=number[0], status=TicketStatus.PENDING_PRINT, channel=channel,
                        issued_at=SAMPLE_NOW, ahead=ahead, estimated_wait_min=wait,
                        token="q7hc2klm9xwbf3ra")
    return Reply(id=command_id, ok=True,
                 result=TicketResult(ticket=ticket).model_dump(mode="json"))


def refusal(command_id: str, code: ErrorCode, message: str) -> Reply:
    """The controller's refusal of a command."""
    return Reply(id=command_id, ok=False, error=ErrorInfo(code=code, message=message))


def elder_lookup() -> LookupResult:
    """An elder with a 10:00 appointment for C (check-in 09:30-10:15) who holds B007."""
    slot = SAMPLE_NOW.replace(hour=10, minute=0)
    held = TicketView(ticket=f"{SAMPLE_NOW:%Y%m%d}-B007", number="B007", service="B",
                      status=TicketStatus.WAITING, channel=Channel.GREEN, issued_at=SAMPLE_NOW,
                      ahead=2, estimated_wait_min=4.0)
    return LookupResult(open_tickets=[held], appointment_service="C", appointment_slot=slot,
                        appointment_checkin_from=slot - timedelta(minutes=30),
                        appointment_checkin_until=slot + timedelta(minutes=15))


def swiped(flow: Flow, resident: Resident = RESIDENT, lookup: LookupResult | None = None,
           now: datetime = SAMPLE_NOW) -> Flow:
    """Swipe a card and answer the lookup: the flow is on the choosing screen."""
    flow.step(CardRead(resident), now)
    assert flow.session is not None
    flow.step(Answered(lookup_reply(flow.session.lookup_id, lookup)), now)
    return flow


def picked(flow: Flow, service: str = "A", now: datetime = SAMPLE_NOW) -> Flow:
    """Pick a service and pass the printer check: the issue command is in flight."""
    flow.step(ServicePicked(service), now)
    flow.step(PrinterChecked(PrinterHealth.OK), now)
    return flow


def issued(flow: Flow, now: datetime = SAMPLE_NOW, **ticket: Unpack[IssueDetails]) -> Flow:
    """The controller confirms the ticket: the flow is printing it."""
    assert flow.session is not None and flow.session.issue is not None
    flow.step(Answered(issue_reply(flow.session.issue.id, **ticket)), now)
    return flow


def _done() -> Flow:
    flow = issued(picked(swiped(ready_flow())))
    assert flow.session is not None and flow.session.ticket is not None
    flow.step(Printed(flow.session.ticket.ticket), SAMPLE_NOW)
    return flow


def _notice() -> Flow:
    flow = picked(swiped(ready_flow()), "B")
    assert flow.session is not None and flow.session.issue is not None
    reply = refusal(flow.session.issue.id, ErrorCode.QUOTA_EXHAUSTED, "quota used up")
    flow.step(Answered(reply), SAMPLE_NOW)
    return flow


def _out_of_service() -> Flow:
    flow = issued(picked(swiped(ready_flow())))
    assert flow.session is not None and flow.session.ticket is not None
    flow.step(PrintFailed(flow.session.ticket.ticket, PrinterHealth.PAPER_OUT,
                          "out of paper before printing ticket A013"), SAMPLE_NOW)
    return flow


def _english_choosing() -> Flow:
    flow = swiped(ready_flow(), ELDER, elder_lookup())
    flow.step(LanguageToggled(), SAMPLE_NOW)
    return flow


def _idle() -> Flow:
    flow = ready_flow()
    for summary in sample_nearby():
        flow.step(NearbyUpdated(summary.hall, summary), SAMPLE_NOW)
    return flow


def _english_idle() -> Flow:
    flow = _idle()
    flow.step(LanguageToggled(), SAMPLE_NOW)
    return flow


def _reading() -> Flow:
    flow = ready_flow()
    flow.step(CardRead(RESIDENT), SAMPLE_NOW)
    return flow


def _help() -> Flow:
    flow = ready_flow()
    flow.step(HelpRequested(), SAMPLE_NOW)
    return flow


SCREENS: dict[str, Callable[[], Flow]] = {
    "idle": _idle,
    "idle-en": _english_idle,
    "reading": _reading,
    "choosing": lambda: swiped(ready_flow(), ELDER, elder_lookup()),
    "choosing-en": _english_choosing,
    "confirming": lambda: picked(swiped(ready_flow())),
    "printing": lambda: issued(picked(swiped(ready_flow()))),
    "done": _done,
    "notice": _notice,
    "out-of-service": _out_of_service,
    "staff-help": _help,
}
