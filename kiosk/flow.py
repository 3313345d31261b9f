"""The kiosk's flow as a pure state machine: inputs in, effects out; no Kivy, MQTT or asyncio.

`Flow.step(event, now)` takes one input (a card read, a touch, a reply from the controller,
a printer report, a clock tick ...) and returns the effects the shell must carry out:
commands to send, a ticket to print, device health to publish, the screen to show.
The rules it keeps: nothing prints without the controller's confirmation; a ticket that
did not print is voided; a printer fault takes the kiosk out of service until the printer
has been well for `recovery_s`.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from kiosk.availability import Intake, Window, appointment_offer, availability, held_tickets
from kiosk.events import (
    Answered,
    Back,
    CardFailed,
    CardRead,
    CheckPrinter,
    Effect,
    Event,
    HallUpdated,
    HelpRequested,
    LanguageToggled,
    LinkChanged,
    NearbyUpdated,
    NoAnswer,
    Phase,
    Printed,
    PrinterChecked,
    PrintFailed,
    PrintTicket,
    PublishHealth,
    ReaderChanged,
    Send,
    ServicePicked,
    ServiceUpdated,
    Show,
    SpeakRequested,
    Tick,
)
from kiosk.identity import Resident
from kiosk.prompts import prompt_after
from kiosk.refusals import Notice, availability_notice, notice_for_refusal, simple_notice
from kiosk.texts import Language
from protocol.messages import (
    DeviceHealth,
    HallState,
    HallSummary,
    IssueTicket,
    Lookup,
    LookupResult,
    PayloadError,
    PrinterHealth,
    Reply,
    RequestHelp,
    ServiceState,
    TicketPrinted,
    TicketResult,
    TicketView,
    VoidTicket,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class FlowSettings:
    """Timeouts and policies of the flow, from the kiosk's settings file."""

    language: Language = Language.ZH
    idle_timeout_s: float = 30.0
    done_s: float = 10.0
    notice_s: float = 12.0
    help_s: float = 60.0
    print_timeout_s: float = 20.0
    recovery_s: float = 10.0
    paper_low_stops: bool = True


@dataclass
class Session:
    """One resident at the kiosk, from the swipe until the kiosk is idle again."""

    resident: Resident
    lookup_id: str
    lookup: LookupResult | None = None
    pick: ServicePicked | None = None
    issue: IssueTicket | None = None
    ticket: TicketView | None = None


@dataclass
class Flow:
    """The kiosk's state; `step` is the only way it changes."""

    settings: FlowSettings = field(default_factory=FlowSettings)
    new_id: Callable[[], str] = field(default=lambda: uuid.uuid4().hex)
    phase: Phase = Phase.OUT_OF_SERVICE
    language: Language = Language.ZH
    hall: HallState | None = None
    services: dict[str, ServiceState] = field(default_factory=dict)
    nearby: dict[str, HallSummary] = field(default_factory=dict)  # hall id -> latest summary
    link_up: bool = False
    ever_connected: bool = False
    reader_ok: bool = True
    reader_detail: str = ""
    printer_status: PrinterHealth | None = None
    printer_fault: PrinterHealth | None = None
    fault_detail: str = ""
    ok_since: datetime | None = None
    session: Session | None = None
    notice: Notice | None = None
    deadline: datetime | None = None
    voided_until: datetime | None = None
    unsettled: dict[str, IssueTicket] = field(default_factory=dict)
    awaiting: dict[str, str] = field(default_factory=dict)  # retried command id -> name
    health_sent: tuple[bool, PrinterHealth | None, bool] | None = None

    def __post_init__(self) -> None:
        self.language = self.settings.language

    # ------------------------------------------------------------ the one entry point
    def step(self, event: Event, now: datetime) -> list[Effect]:
        """Apply one input at ``now``; return what the shell must do."""
        before, notice = self.phase, self.notice
        handler = _HANDLERS[type(event)]
        effects: list[Effect] = handler(self, event, now)
        self.awaiting.update((e.command.id, e.name) for e in effects
                             if isinstance(e, Send) and e.retry)
        self._recover(now)
        if self.phase in (Phase.IDLE, Phase.OUT_OF_SERVICE):
            self.phase = Phase.OUT_OF_SERVICE if self.faults else Phase.IDLE
        effects += self._health(now)
        if self.phase is not before:
            effects.append(Show(self.phase))
        changed = self.phase is not before or self.notice is not notice
        spoken = prompt_after(before, event, self, changed, now)
        return [*effects, spoken] if spoken is not None else effects

    # ------------------------------------------------------------ derived state
    @property
    def faults(self) -> list[str]:
        """Why the kiosk cannot issue tickets now (text keys), most actionable first."""
        found = []
        if self.printer_fault is not None:
            found.append(f"fault.{self.printer_fault.value}")
        if not self.reader_ok:
            found.append("fault.reader")
        if not self.link_up:
            found.append("fault.link" if self.ever_connected else "fault.starting")
        elif self.hall is None:
            found.append("fault.starting")
        return found

    @property
    def ticket_voided(self) -> bool:
        """The out-of-service screen should tell the resident their ticket was voided."""
        return self.voided_until is not None

    def usable(self, status: PrinterHealth) -> bool:
        return status is PrinterHealth.OK or (
            status is PrinterHealth.PAPER_LOW and not self.settings.paper_low_stops)

    # ------------------------------------------------------------ transitions
    def _to_idle(self, now: datetime) -> None:
        self.session = None
        self.notice = None
        self.deadline = None
        self.language = self.settings.language
        self.phase = Phase.OUT_OF_SERVICE if self.faults else Phase.IDLE

    def _to_notice(self, notice: Notice, now: datetime) -> None:
        self.notice = notice
        self.phase = Phase.NOTICE
        self.deadline = now + timedelta(seconds=self.settings.notice_s)

    def _to_choosing(self, now: datetime) -> None:
        self.notice = None
        self.phase = Phase.CHOOSING
        self.deadline = now + timedelta(seconds=self.settings.idle_timeout_s)

    def _report_printer(self, status: PrinterHealth, detail: str, now: datetime) -> None:
        self.printer_status = status
        if self.usable(status):
            if self.printer_fault is not None and self.ok_since is None:
                self.ok_since = now
        else:
            self.printer_fault, self.fault_detail, self.ok_since = status, detail, None

    def _recover(self, now: datetime) -> None:
        """Clear a printer fault once the printer has been well for recovery_s."""
        if self.voided_until is not None and now >= self.voided_until:
            self.voided_until = None
        if self.printer_fault is None or self.ok_since is None:
            return
        if (now - self.ok_since).total_seconds() >= self.settings.recovery_s:
            log.info("printer recovered from %s", self.printer_fault.value)
            self.printer_fault, self.fault_detail, self.ok_since = None, "", None

    def _health(self, now: datetime) -> list[Effect]:
        """Publish device health when what it says changes (never before anything is known)."""
        if self.printer_status is None and self.reader_ok:
            return []
        printer = self.printer_fault or self.printer_status
        ok = self.printer_fault is None and self.reader_ok
        key = (ok, printer, self.reader_ok)
        if key == self.health_sent or not self.link_up:
            return []
        self.health_sent = key
        detail = self.fault_detail if self.printer_fault else self.reader_detail
        return [PublishHealth(DeviceHealth(ok=ok, printer=printer, reader=self.reader_ok,
                                           detail=detail[:200], at=now))]

    # ------------------------------------------------------------ card and touches
    def _on_card_read(self, event: CardRead, now: datetime) -> list[Effect]:
        if self.faults or self.phase in (Phase.READING, Phase.CONFIRMING, Phase.PRINTING):
            return []
        if (self.phase is Phase.CHOOSING and self.session is not None
                and self.session.resident == event.resident):
            return []
        self.session = Session(event.resident, self.new_id())
        self.notice = None
        self.phase, self.deadline = Phase.READING, None
        lookup = Lookup(id=self.session.lookup_id, id_hash=event.resident.id_hash)
        return [Send("lookup", lookup)]

    def _on_card_failed(self, event: CardFailed, now: datetime) -> list[Effect]:
        if self.phase in (Phase.IDLE, Phase.DONE, Phase.NOTICE):
            self.session = None
            key = "card_invalid" if event.unusable else "card_unreadable"
            self._to_notice(simple_notice(key), now)
        return []

    def _on_reader_changed(self, event: ReaderChanged, now: datetime) -> list[Effect]:
        self.reader_ok, self.reader_detail = event.ok, event.detail
        return []

    def _on_pick(self, event: ServicePicked, now: datetime) -> list[Effect]:
        session = self.session
        if self.phase is not Phase.CHOOSING or session is None or self.hall is None:
            return []
        held = held_tickets(session.lookup)
        if event.appointment:
            offer = appointment_offer(self.hall, session.lookup, now)
            if offer is None or offer.service != event.service:
                self._to_notice(self._refusal("no_appointment", event.service, now), now)
                return []
            if offer.window is not Window.OPEN:
                self._to_notice(self._refusal("outside_window", event.service, now), now)
                return []
            held = {}
        found = availability(self.hall, event.service, self.services.get(event.service), now,
                             held)
        if found.intake is not Intake.OPEN:
            self._to_notice(availability_notice(event.service, found), now)
            return []
        session.pick, session.issue = event, None
        self.phase, self.deadline = Phase.CONFIRMING, None
        return [CheckPrinter()]

    def _refusal(self, code: str, service: str, now: datetime) -> Notice:
        assert self.hall is not None
        lookup = self.session.lookup if self.session is not None else None
        return notice_for_refusal(code, self.hall, service, self.services.get(service), lookup,
                                  now)

    def _on_back(self, event: Back, now: datetime) -> list[Effect]:
        back_to_choosing = self.phase is Phase.STAFF_HELP or (
            self.phase is Phase.NOTICE and self.notice is not None and self.notice.back)
        if back_to_choosing and self.session is not None and self.session.lookup is not None:
            self._to_choosing(now)
        elif self.phase in (Phase.CHOOSING, Phase.NOTICE, Phase.DONE, Phase.STAFF_HELP):
            self._to_idle(now)
        return []

    def _on_language(self, event: LanguageToggled, now: datetime) -> list[Effect]:
        self.language = self.language.other
        if self.phase in (Phase.IDLE, Phase.OUT_OF_SERVICE, Phase.CHOOSING):
            self.deadline = now + timedelta(seconds=self.settings.idle_timeout_s)
        return []

    def _on_speak(self, event: SpeakRequested, now: datetime) -> list[Effect]:
        if self.deadline is not None and self.phase is Phase.CHOOSING:
            self.deadline = now + timedelta(seconds=self.settings.idle_timeout_s)
        return []

    def _on_help(self, event: HelpRequested, now: datetime) -> list[Effect]:
        if self.phase in (Phase.READING, Phase.CONFIRMING, Phase.PRINTING):
            return []
        self.phase = Phase.STAFF_HELP
        self.deadline = now + timedelta(seconds=self.settings.help_s)
        return [Send("help", RequestHelp(id=self.new_id()), retry=True)]

    # ------------------------------------------------------------ the controller
    def _on_answered(self, event: Answered, now: datetime) -> list[Effect]:
        reply, session = event.reply, self.session
        self.awaiting.pop(reply.id, None)
        if reply.id in self.unsettled:
            return self._settle_late_issue(self.unsettled.pop(reply.id), reply)
        if session is None:
            return []
        if self.phase is Phase.READING and reply.id == session.lookup_id:
            self._take_lookup(reply, now)
            return []
        if (self.phase is Phase.CONFIRMING and session.issue is not None
                and reply.id == session.issue.id):
            return self._take_issue(reply, now)
        return []

    def _take_lookup(self, reply: Reply, now: datetime) -> None:
        assert self.session is not None
        try:
            if not reply.ok:
                raise ValueError(reply.error.message if reply.error else "refused")
            self.session.lookup = reply.result_as(LookupResult)
        except ValueError as exc:
            log.warning("lookup failed: %s", exc)
            self.session = None
            self._to_notice(simple_notice("refused"), now)
            return
        self._to_choosing(now)

    def _take_issue(self, reply: Reply, now: datetime) -> list[Effect]:
        session = self.session
        assert session is not None and session.pick is not None and self.hall is not None
        if not reply.ok:
            code = reply.error.code.value if reply.error else "refused"
            log.info("issue refused: %s", reply.error.message if reply.error else code)
            self._to_notice(self._refusal(code, session.pick.service, now), now)
            return []
        try:
            ticket = reply.result_as(TicketResult).ticket
        except PayloadError as exc:
            log.error("issue reply without a usable ticket: %s", exc)
            self._to_notice(simple_notice("refused"), now)
            return []
        session.ticket = ticket
        self.phase = Phase.PRINTING
        self.deadline = now + timedelta(seconds=self.settings.print_timeout_s)
        return [PrintTicket(session.ticket, self.hall)]

    def _settle_late_issue(self, issue: IssueTicket, reply: Reply) -> list[Effect]:
        """An issue the kiosk gave up on was answered after all: void what nobody holds."""
        if not reply.ok:
            return []
        try:
            ticket = reply.result_as(TicketResult).ticket
        except PayloadError as exc:
            log.error("a late issue reply without a usable ticket: %s", exc)
            return []
        log.warning("voiding %s: its issue reply came after the kiosk gave up", ticket.ticket)
        void = VoidTicket(id=self.new_id(), ticket=ticket.ticket,
                          reason="the kiosk gave up waiting for the issue reply; nothing printed")
        return [Send("void", void, retry=True)]

    def _on_no_answer(self, event: NoAnswer, now: datetime) -> list[Effect]:
        session = self.session
        if session is None:
            return []
        if self.phase is Phase.READING and event.command_id == session.lookup_id:
            log.warning("no answer to lookup: %s", event.reason)
            self.session = None
            self._to_notice(simple_notice("no_answer"), now)
            return []
        issue = session.issue
        if self.phase is Phase.CONFIRMING and issue is not None and event.command_id == issue.id:
            log.warning("no answer to issue %s: %s; nothing printed", issue.id, event.reason)
            self._to_notice(simple_notice("no_answer"), now)
            if not event.sent:
                return []
            self.unsettled[issue.id] = issue
            return [Send("issue", issue, retry=True)]
        return []

    # ------------------------------------------------------------ the printer
    def _on_printer_checked(self, event: PrinterChecked, now: datetime) -> list[Effect]:
        self._report_printer(event.status, event.detail, now)
        session = self.session
        if self.phase is not Phase.CONFIRMING or session is None or session.pick is None:
            return []
        if session.issue is not None:
            return []
        if self.printer_fault is not None:
            log.warning("printer %s before issuing; no ticket", event.status.value)
            self._to_idle(now)
            return []
        pick = session.pick
        session.issue = IssueTicket(id=self.new_id(), service=pick.service,
                                    id_hash=session.resident.id_hash, green=session.resident.green,
                                    appointment=pick.appointment, print_on_kiosk=True)
        return [Send("issue", session.issue)]

    def _on_printed(self, event: Printed, now: datetime) -> list[Effect]:
        session = self.session
        if (self.phase is not Phase.PRINTING or session is None or session.ticket is None
                or session.ticket.ticket != event.ticket):
            log.warning("ticket %s printed after the kiosk gave up on it", event.ticket)
            return []
        self._report_printer(event.status, "", now)
        self.phase = Phase.DONE
        self.deadline = now + timedelta(seconds=self.settings.done_s)
        return [Send("printed", TicketPrinted(id=self.new_id(), ticket=event.ticket), retry=True)]

    def _on_print_failed(self, event: PrintFailed, now: datetime) -> list[Effect]:
        session = self.session
        if (self.phase is not Phase.PRINTING or session is None or session.ticket is None
                or session.ticket.ticket != event.ticket):
            return []
        return self._fail_print(event.status, event.detail, now)

    def _fail_print(self, status: PrinterHealth | None, detail: str,
                    now: datetime) -> list[Effect]:
        assert self.session is not None and self.session.ticket is not None
        ticket = self.session.ticket.ticket
        log.warning("ticket %s not printed (%s): voiding it", ticket, detail)
        void = VoidTicket(id=self.new_id(), ticket=ticket, reason=f"print failed: {detail}"[:200])
        if status is None:
            self._to_notice(simple_notice("cannot_print"), now)
        else:
            self._report_printer(status, detail, now)
            if self.printer_fault is None:
                self.printer_fault, self.fault_detail = PrinterHealth.ERROR, detail
            self.voided_until = now + timedelta(seconds=self.settings.notice_s)
            self._to_idle(now)
        return [Send("void", void, retry=True)]

    # ------------------------------------------------------------ time, link, hall
    def _on_tick(self, event: Tick, now: datetime) -> list[Effect]:
        if self.deadline is None or now < self.deadline:
            return []
        if self.phase is Phase.PRINTING:
            return self._fail_print(PrinterHealth.ERROR, "the printer did not finish within "
                                    f"{self.settings.print_timeout_s:g} s", now)
        self._to_idle(now)
        return []

    def _on_link(self, event: LinkChanged, now: datetime) -> list[Effect]:
        self.link_up = event.up
        if event.up:
            self.ever_connected = True
            self.health_sent = None
        return []

    def _on_hall(self, event: HallUpdated, now: datetime) -> list[Effect]:
        held = self.hall
        if not (event.retained and held is not None and _older(
                (event.hall.date, event.hall.rev), (held.date, held.rev))):
            self.hall = event.hall
        return []

    def _on_service(self, event: ServiceUpdated, now: datetime) -> list[Effect]:
        state, held = event.state, self.services.get(event.state.service)
        if not (event.retained and held is not None and _older(
                (state.day, state.rev), (held.day, held.rev))):
            self.services[state.service] = state
        return []

    def _on_nearby(self, event: NearbyUpdated, now: datetime) -> list[Effect]:
        if event.summary is None:
            self.nearby.pop(event.hall, None)
        else:
            self.nearby[event.hall] = event.summary
        return []


_HANDLERS: dict[type, Callable[[Flow, Any, datetime], list[Effect]]] = {
    CardRead: Flow._on_card_read,
    CardFailed: Flow._on_card_failed,
    ReaderChanged: Flow._on_reader_changed,
    ServicePicked: Flow._on_pick,
    Back: Flow._on_back,
    LanguageToggled: Flow._on_language,
    HelpRequested: Flow._on_help,
    SpeakRequested: Flow._on_speak,
    Answered: Flow._on_answered,
    NoAnswer: Flow._on_no_answer,
    PrinterChecked: Flow._on_printer_checked,
    Printed: Flow._on_printed,
    PrintFailed: Flow._on_print_failed,
    Tick: Flow._on_tick,
    LinkChanged: Flow._on_link,
    HallUpdated: Flow._on_hall,
    ServiceUpdated: Flow._on_service,
    NearbyUpdated: Flow._on_nearby,
}


def _older(offered: tuple[str | None, int], held: tuple[str | None, int]) -> bool:
    """A retained snapshot older (business day, rev) than the one in hand: a broker restarted
    from an older save hands those back. Just-published ones are always current."""
    (day, rev), (held_day, held_rev) = offered, held
    return day is not None and held_day is not None and (day, rev) < (held_day, held_rev)
