"""The command table: who may send each command, and what it does to the engine."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from hall.engine.engine import HallEngine, Refused
from hall.engine.model import Ticket
from hall.engine.projection import Projection, project
from hall.snapshots import counter_state, ticket_view
from hallconfig import Device
from protocol import messages as m


@dataclass(frozen=True, slots=True)
class Context:
    """What a handler gets: the engine, the sender, the time, the latest projection and,
    for a sign-in, the clerk whose credentials were checked before (hall/signin.py)."""

    engine: HallEngine
    device: Device
    now: datetime
    projection: Projection
    clerk: str | None = None


Handler = Callable[[Context, Any], BaseModel]  # returns the command's model in m.RESULTS


def own_counter(ctx: Context, cmd: m.CounterCommand) -> str:
    """The counter a command acts on; a caller may act only on its own."""
    if ctx.device.role == m.Role.CALLER:
        if cmd.counter is not None and cmd.counter != ctx.device.counter:
            raise Refused(m.ErrorCode.FORBIDDEN,
                          f"{ctx.device.id} may only command counter {ctx.device.counter}")
        return str(ctx.device.counter)
    if cmd.counter is None:
        raise Refused(m.ErrorCode.MALFORMED, "counter: required for this device")
    return cmd.counter


def _view(ctx: Context, ticket: Ticket) -> m.TicketResult:
    return m.TicketResult(ticket=ticket_view(ctx.engine, ticket, ctx.projection))


def issue(ctx: Context, cmd: m.IssueTicket) -> m.TicketResult:
    pending = ctx.device.role == m.Role.KIOSK  # a kiosk's ticket counts once it has printed
    if ctx.device.role == m.Role.KIOSK and cmd.green and cmd.id_hash is None:
        raise Refused(m.ErrorCode.MALFORMED, "id_hash: a kiosk's green ticket needs the card")
    ticket = ctx.engine.issue(ctx.now, cmd.service, cmd.id_hash, cmd.green, cmd.appointment,
                              pending_print=pending, kiosk=_kiosk(ctx))
    if ticket.channel is m.Channel.NORMAL:
        # The youngest walk-in: the frontier of the projection before it is its exact wait.
        projection = ctx.projection
        wait_s = projection.new_ticket_wait(ctx.engine, ticket.service)
    else:
        projection = _projected_as_waiting(ctx.engine, ticket, ctx.now.timestamp())
        wait_s = projection.wait_seconds(ticket)
    ticket.estimate_at_issue = wait_s
    return m.TicketResult(ticket=ticket_view(ctx.engine, ticket, projection, wait_s))


def _projected_as_waiting(engine: HallEngine, ticket: Ticket, now: float) -> Projection:
    """The projection up to ``ticket``, as if it joined its queue now (it may still await its
    print). The queue is restored before anything else can run: this is the single writer."""
    queue = engine.queues[ticket.service]
    joined = ticket.status is m.TicketStatus.PENDING_PRINT
    if joined:
        queue.add(ticket)
    try:
        return project(engine, now, focus=ticket)
    finally:
        if joined:
            queue.remove(ticket)


def lookup(ctx: Context, cmd: m.Lookup) -> m.LookupResult:
    e = ctx.engine
    held = [ticket_view(e, t, ctx.projection) for (h, _), t in e.open_by_person.items()
            if h == cmd.id_hash]
    booking = e.appointments.get(cmd.id_hash)
    result = m.LookupResult(open_tickets=held)
    if booking is not None and booking.checked_in is None:
        rules = e.config.rules
        result = m.LookupResult(
            open_tickets=held, appointment_service=booking.service,
            appointment_slot=e.local(booking.slot),
            appointment_checkin_from=e.local(booking.slot - rules.appointment_early_min * 60),
            appointment_checkin_until=e.local(booking.slot + rules.appointment_late_min * 60))
    return result


def _kiosk(ctx: Context) -> str | None:
    """The sending kiosk (its tickets' prints are its own), or None for staff."""
    return ctx.device.id if ctx.device.role == m.Role.KIOSK else None


def printed(ctx: Context, cmd: m.TicketPrinted) -> m.TicketResult:
    return _view(ctx, ctx.engine.printed(ctx.now, cmd.ticket, _kiosk(ctx)))


def void(ctx: Context, cmd: m.VoidTicket) -> m.TicketResult:
    return _view(ctx, ctx.engine.void(ctx.now, cmd.ticket, cmd.reason, _kiosk(ctx)))


def request_help(ctx: Context, cmd: m.RequestHelp) -> m.HelpResult:
    ctx.engine.request_help(ctx.now, ctx.device.id)
    return m.HelpResult(help="requested")


def call_next(ctx: Context, cmd: m.CallNext) -> m.CallResult:
    counter = own_counter(ctx, cmd)
    ticket = ctx.engine.call_next(ctx.now, counter)
    return m.CallResult(called=None if ticket is None else ticket_view(ctx.engine, ticket, None),
                        counter=_counter(ctx, counter))


def _counter_action(action: Callable[[HallEngine, datetime, str], Any]) -> Handler:
    def handler(ctx: Context, cmd: m.CounterCommand) -> m.CounterResult:
        counter = own_counter(ctx, cmd)
        action(ctx.engine, ctx.now, counter)
        return m.CounterResult(counter=_counter(ctx, counter))
    return handler


def _counter(ctx: Context, counter: str) -> m.CounterState:
    return counter_state(ctx.engine, ctx.engine.desks[counter], ctx.now)


def pause(ctx: Context, cmd: m.Pause) -> m.CounterResult:
    counter = own_counter(ctx, cmd)
    ctx.engine.set_counter_status(ctx.now, counter, m.CounterStatus.PAUSED, cmd.reason)
    return m.CounterResult(counter=_counter(ctx, counter))


def transfer(ctx: Context, cmd: m.Transfer) -> m.TransferResult:
    counter = own_counter(ctx, cmd)
    ticket = ctx.engine.transfer(ctx.now, counter, cmd.to_service, cmd.to_counter)
    return m.TransferResult(ticket=ticket_view(ctx.engine, ticket, ctx.projection),
                            counter=_counter(ctx, counter))


def sign_in(ctx: Context, cmd: m.SignIn) -> m.CounterResult:
    counter = own_counter(ctx, cmd)
    if ctx.clerk is None:
        raise Refused(m.ErrorCode.BAD_CREDENTIALS, "credentials not checked")
    ctx.engine.sign_in(ctx.now, counter, ctx.clerk)
    return m.CounterResult(counter=_counter(ctx, counter))


def evaluate(ctx: Context, cmd: m.Evaluate) -> m.EvaluateResult:
    counter = own_counter(ctx, cmd)
    ticket = ctx.engine.evaluate(ctx.now, counter, cmd.rating, cmd.ticket)
    return m.EvaluateResult(ticket=ticket.ticket_id, rating=int(cmd.rating))


def set_services(ctx: Context, cmd: m.SetCounterServices) -> m.CounterResult:
    counter = own_counter(ctx, cmd)
    ctx.engine.set_counter_services(ctx.now, counter, list(cmd.services))
    return m.CounterResult(counter=_counter(ctx, counter))


def set_intake(ctx: Context, cmd: m.SetIntake) -> m.IntakeResult:
    ctx.engine.set_intake(ctx.now, cmd.service, cmd.open)
    return m.IntakeResult(service=cmd.service, open=cmd.open)


def set_notice(ctx: Context, cmd: m.SetNotice) -> m.NoticeResult:
    ctx.engine.set_notice(ctx.now, cmd.text)
    return m.NoticeResult(notice=cmd.text)


def cancel(ctx: Context, cmd: m.CancelTicket) -> m.TicketResult:
    return _view(ctx, ctx.engine.cancel(ctx.now, cmd.ticket))


def move(ctx: Context, cmd: m.MoveTicket) -> m.TicketResult:
    return _view(ctx, ctx.engine.move(ctx.now, cmd.ticket, cmd.to_service))


def reprint(ctx: Context, cmd: m.Reprint) -> m.TicketResult:
    ticket = ctx.engine.ticket(cmd.ticket)
    if ticket.status is not m.TicketStatus.WAITING:
        raise Refused(m.ErrorCode.INVALID_STATE, f"{ticket.number} is {ticket.status.value}")
    return _view(ctx, ticket)


def book(ctx: Context, cmd: m.BookAppointment) -> m.BookResult:
    ctx.engine.book(ctx.now, cmd.id_hash, cmd.service, cmd.slot)
    return m.BookResult(service=cmd.service, slot=cmd.slot.isoformat())


def follow_up(ctx: Context, cmd: m.FollowUpAlert) -> m.FollowUpResult:
    ctx.engine.follow_up(ctx.now, cmd.kind, cmd.subject, cmd.note)
    return m.FollowUpResult(kind=cmd.kind, subject=cmd.subject)


def end_day(ctx: Context, cmd: m.EndDay) -> m.EndDayResult:
    ctx.engine.end_day(ctx.now)
    return m.EndDayResult(ended=ctx.engine.day.isoformat())


HANDLERS: dict[str, Handler] = {
    "issue": issue,
    "lookup": lookup,
    "printed": printed,
    "help": request_help,
    "void": void,
    "call_next": call_next,
    "recall": _counter_action(HallEngine.recall),
    "no_show": _counter_action(HallEngine.no_show),
    "start": _counter_action(HallEngine.start),
    "done": _counter_action(HallEngine.done),
    "transfer": transfer,
    "pause": pause,
    "resume": _counter_action(
        lambda e, now, c: e.set_counter_status(now, c, m.CounterStatus.OPEN)),
    "sign_in": sign_in,
    "sign_out": _counter_action(HallEngine.sign_out),
    "evaluate": evaluate,
    "open_counter": _counter_action(
        lambda e, now, c: e.set_counter_status(now, c, m.CounterStatus.OPEN)),
    "close_counter": _counter_action(
        lambda e, now, c: e.set_counter_status(now, c, m.CounterStatus.CLOSED)),
    "set_counter_services": set_services,
    "set_intake": set_intake,
    "set_notice": set_notice,
    "cancel": cancel,
    "move": move,
    "reprint": reprint,
    "book": book,
    "end_day": end_day,
    "follow_up": follow_up,
}
assert set(HANDLERS) == set(m.COMMANDS), "every protocol command needs a handler"
