"""What each screen says, worked out from the flow: pure text and flags, no widgets.

`build_view(flow, now)` returns a `View` in the resident's language; the Kivy screens only
lay it out. Nothing personal is in a View: no name, no ID number, no hash.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from kiosk.availability import (
    Availability,
    Intake,
    Window,
    appointment_offer,
    availability,
    held_tickets,
    local_time,
)
from kiosk.events import Phase
from kiosk.flow import Flow
from kiosk.texts import Language, long_date, minutes, say
from protocol.messages import Channel, HallState, HallSummary, ServiceInfo

_INTAKE_TEXT = {
    Intake.FULL: "full",
    Intake.NOT_YET: "not_yet",
    Intake.ENDED: "ended",
    Intake.CLOSED_TODAY: "closed_today",
    Intake.PAUSED: "paused",
    Intake.HELD: "held",
}
_SIMPLE_TITLES = {Phase.READING: "reading", Phase.CONFIRMING: "confirming",
                  Phase.PRINTING: "printing"}
NEARBY_CURRENT_FOR = timedelta(minutes=3)  # an older summary is not shown as current
_CENTRE_SUFFIXES = ("社区事务受理服务中心", "社区事务受理中心",
                    " Community Affairs Acceptance Centre", " Community Affairs Acceptance Center")


@dataclass(frozen=True, slots=True)
class ServiceButton:
    """One service on the idle or choosing screen."""

    service: str
    name: str
    waiting: str
    wait: str
    status: str  # why it takes no ticket now; "" when it does
    enabled: bool


@dataclass(frozen=True, slots=True)
class AppointmentButton:
    """The check-in offer shown above the services."""

    service: str
    label: str
    enabled: bool


@dataclass(frozen=True, slots=True)
class NearbyCentre:
    """A nearby centre on the idle screen: its short name, people waiting and typical wait."""

    hall: str
    name: str
    waiting: str  # "" when its figures are not current
    wait: str  # 约 8 分钟, 无需等候, 暂无窗口开放 or 暂无数据
    current: bool


@dataclass(frozen=True, slots=True)
class View:
    """Everything one screen shows, already in the resident's language."""

    phase: Phase
    language: Language
    hall_name: str
    date: str
    clock: str
    switch_language: str
    help: str
    title: str = ""
    lines: tuple[str, ...] = ()
    services: tuple[ServiceButton, ...] = ()
    appointment: AppointmentButton | None = None
    badge: str = ""
    number: str = ""
    service_name: str = ""
    back: str = ""
    hall_notice: str = ""
    alarm: bool = False  # out of service: the screen turns to its warning colours
    nearby_title: str = ""
    nearby: tuple[NearbyCentre, ...] = ()


def build_view(flow: Flow, now: datetime) -> View:
    """The screen for the flow's phase at ``now``."""
    lang, hall = flow.language, flow.hall
    local = local_time(hall, now) if hall is not None else now
    view = View(
        phase=flow.phase, language=lang,
        hall_name=_hall_name(hall, lang), date=long_date(local.date(), lang),
        clock=f"{local:%H:%M}", switch_language=say("switch_language", lang),
        help=say("help", lang), hall_notice=hall.notice if hall is not None else "")
    return _BUILDERS.get(flow.phase, _simple)(flow, view, now)


def _idle(flow: Flow, view: View, now: datetime) -> View:
    lang = view.language
    local = local_time(flow.hall, now) if flow.hall is not None else now
    centres = nearby_centres(flow.nearby, local, lang)
    return replace(view, title=say("swipe", lang), lines=(say("swipe_hint", lang),),
                   services=_buttons(flow, now, {}), nearby=centres,
                   nearby_title=say("nearby", lang) if centres else "")


def _simple(flow: Flow, view: View, now: datetime) -> View:
    lang = view.language
    return replace(view, title=say(_SIMPLE_TITLES.get(flow.phase, "reading"), lang),
                 lines=(say("keep_card", lang),))


def _choosing(flow: Flow, view: View, now: datetime) -> View:
    lang, session = view.language, flow.session
    lookup = session.lookup if session is not None else None
    green = session is not None and session.resident.green
    return replace(view, title=say("choose", lang), services=_buttons(flow, now,
                                                                    held_tickets(lookup)),
                 appointment=_appointment(flow, now), badge=say("green", lang) if green else "",
                 back=say("back", lang))


def _done(flow: Flow, view: View, now: datetime) -> View:
    lang, session = view.language, flow.session
    ticket = session.ticket if session is not None else None
    if ticket is None or flow.hall is None:
        return _simple(flow, view, now)
    ahead = ticket.ahead or 0
    if ticket.estimated_wait_min is None:  # no window serves it now: no promise
        queue = say("ahead_unknown", lang, n=ahead) if ahead else say("none_unknown", lang)
    elif ahead == 0:
        queue = say("ahead_none", lang)
    else:
        queue = say("ahead", lang, n=ahead, m=minutes(ticket.estimated_wait_min))
    badge = {Channel.GREEN: say("green_ticket", lang),
             Channel.APPOINTMENT: say("appointment_ticket", lang)}.get(ticket.channel, "")
    return replace(view, title=say("take_ticket", lang), number=ticket.number,
                 service_name=_service_name(flow.hall, ticket.service, lang),
                 lines=(queue, say("listen", lang)), badge=badge,
                 back=say("done_button", lang))


def _notice(flow: Flow, view: View, now: datetime) -> View:
    lang, notice = view.language, flow.notice
    if notice is None:
        return _simple(flow, view, now)
    service = _service_name(flow.hall, notice.service, lang) if notice.service else ""
    can_choose = notice.back and flow.session is not None and flow.session.lookup is not None
    return replace(view, title=say(notice.title, lang),
                 lines=(say(notice.body, lang, service=service, **notice.values),),
                 back=say("choose_other" if can_choose else "back", lang))


def _out_of_service(flow: Flow, view: View, now: datetime) -> View:
    lang = view.language
    lines = [say(fault, lang) for fault in flow.faults]
    if flow.ticket_voided:
        lines.append(say("oos_voided", lang))
    lines.append(say("oos_body", lang))
    if flow.printer_fault is not None or not flow.reader_ok:
        lines.append(say("oos_alerted", lang))
    return replace(view, title=say("out_of_service", lang), lines=tuple(lines), alarm=True)


def _staff_help(flow: Flow, view: View, now: datetime) -> View:
    lang = view.language
    age = flow.hall.green_age if flow.hall is not None else 70
    return replace(view, title=say("help.title", lang),
                 lines=(say("help.desk", lang), say("help.no_card", lang),
                        say("help.green", lang, age=age)),
                 back=say("back", lang))


_BUILDERS = {
    Phase.IDLE: _idle,
    Phase.CHOOSING: _choosing,
    Phase.DONE: _done,
    Phase.NOTICE: _notice,
    Phase.OUT_OF_SERVICE: _out_of_service,
    Phase.STAFF_HELP: _staff_help,
}


def _buttons(flow: Flow, now: datetime, held: dict[str, str]) -> tuple[ServiceButton, ...]:
    hall = flow.hall
    if hall is None:
        return ()
    return tuple(_button(hall, info, flow, now, held) for info in hall.services)


def _button(hall: HallState, info: ServiceInfo, flow: Flow, now: datetime,
            held: dict[str, str]) -> ServiceButton:
    lang = flow.language
    state = flow.services.get(info.id)
    found = availability(hall, info.id, state, now, held)
    waiting = say("waiting", lang, n=state.waiting) if state is not None else ""
    wait = ""
    if state is not None and found.open:
        wait = _wait(state.estimated_wait_min, lang)
    return ServiceButton(service=info.id, name=info.name if lang is Language.ZH else info.name_en,
                         waiting=waiting, wait=wait, status=_status(found, lang),
                         enabled=found.open)


def _wait(estimate: float | None, lang: Language) -> str:
    """A new ticket's wait: about m minutes, no wait, or not yet known (no window serves)."""
    if estimate is None:
        return say("wait_unknown", lang)
    m = minutes(estimate)
    return say("about_min", lang, m=m) if m > 0 else say("no_wait", lang)


def _status(found: Availability, lang: Language) -> str:
    key = _INTAKE_TEXT.get(found.intake)
    return say(key, lang, time=found.time or "", number=found.number or "") if key else ""


def _appointment(flow: Flow, now: datetime) -> AppointmentButton | None:
    lang, hall, session = flow.language, flow.hall, flow.session
    if hall is None or session is None:
        return None
    offer = appointment_offer(hall, session.lookup, now)
    if offer is None:
        return None
    name = _service_name(hall, offer.service, lang)
    if offer.window is Window.OPEN:
        label = f"{say('appointment_offer', lang, slot=offer.slot)} · {name}"
    elif offer.window is Window.EARLY:
        label = say("appointment_early", lang, slot=offer.slot, start=offer.start)
    else:
        label = say("appointment_late", lang, slot=offer.slot, end=offer.end)
    return AppointmentButton(offer.service, label, offer.window is Window.OPEN)


def _hall_name(hall: HallState | None, lang: Language) -> str:
    if hall is None:
        return ""
    return hall.name if lang is Language.ZH else hall.name_en


def _service_name(hall: HallState | None, service: str, lang: Language) -> str:
    info = next((s for s in hall.services if s.id == service), None) if hall else None
    if info is None:
        return service
    return info.name if lang is Language.ZH else info.name_en


# ---------------------------------------------------------------- nearby centres
def typical_wait(summary: HallSummary) -> float | None:
    """Minutes a resident of the centre's current mix waits: each service's estimated wait
    weighted by the people waiting for it (services with a known wait only); 0 when nobody
    waits, None when people wait and no window serves any of their services."""
    known = [(s.waiting, s.estimated_wait_min) for s in summary.services
             if s.estimated_wait_min is not None]
    waiting = sum(n for n, _ in known)
    if waiting == 0:
        return None if any(s.waiting for s in summary.services) else 0.0
    return sum(n * m for n, m in known) / waiting


def is_current(summary: HallSummary, now: datetime) -> bool:
    """Published within NEARBY_CURRENT_FOR of ``now`` (either way: a clock may be off)."""
    return abs(now - summary.at) <= NEARBY_CURRENT_FOR


def nearby_centres(summaries: Mapping[str, HallSummary], now: datetime,
                   lang: Language) -> tuple[NearbyCentre, ...]:
    """Today's nearby centres: open ones shortest typical wait first, then closed, then stale.

    ``now`` is on the hall's clock; a summary from an earlier day is not shown at all (a
    centre since removed from the hall's list, or yesterday's figures before opening)."""
    today = [s for s in summaries.values() if s.at.astimezone(now.tzinfo).date() == now.date()]
    centres = [_centre(s, now, lang) for s in today]
    rank = {s.hall: (0 if s.counters_open else 1, _or_last(typical_wait(s))) for s in today}
    return tuple(sorted(centres, key=lambda c: (not c.current, *rank[c.hall], c.name)))


def _centre(summary: HallSummary, now: datetime, lang: Language) -> NearbyCentre:
    name = short_centre_name(summary.name if lang is Language.ZH else summary.name_en)
    if not is_current(summary, now):
        return NearbyCentre(summary.hall, name, "", say("nearby_stale", lang), current=False)
    waiting = say("waiting", lang, n=sum(s.waiting for s in summary.services))
    if summary.counters_open == 0:
        wait = say("nearby_closed", lang)
    else:
        wait = _wait(typical_wait(summary), lang)
    return NearbyCentre(summary.hall, name, waiting, wait, current=True)


def _or_last(wait: float | None) -> float:
    return math.inf if wait is None else wait


def short_centre_name(name: str) -> str:
    """天平街道社区事务受理服务中心 -> 天平街道: the list is already headed 附近中心."""
    for suffix in _CENTRE_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)].strip()
    return name
