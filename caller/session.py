"""What one window's caller decides, with no MQTT, GPIO or asyncio in sight.

A ``CounterSession`` turns the clerk's keys into protocol commands (``Order``), follows the
counter's retained state and the link, decides what the status lights show, and after each
answer says what the window should do (``Outcome``): beep, arm the evaluator for the ticket
whose service just ended, or disarm it when the next resident is called.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel, ValidationError

from protocol import messages as m

log = logging.getLogger(__name__)

BEEP_HOLD = 1  # a hold-to-confirm key was only tapped, or a key came while busy
BEEP_REFUSED = 2  # the controller (or the window itself) refused
BEEP_NO_ANSWER = 3  # no answer after every retry
BEEP_SIGN_IN = 4  # refused: no clerk is signed in at this counter
SIGN_IN_FIRST = ("请先签到：刷工作证，或输入工号和密码 · sign in first: swipe your staff card "
                 "or enter your staff number and PIN")


class ClerkAction(StrEnum):
    """A clerk's key (the same values as hardware.gpio's Action)."""

    NEXT = "next"
    RECALL = "recall"
    NO_SHOW = "no_show"
    TRANSFER = "transfer"
    PAUSE = "pause"
    DONE = "done"
    NEEDS_HOLD = "needs_hold"


class Lights(StrEnum):
    """What the status lights show (the same values as hardware.gpio's WindowState)."""

    SERVING = "serving"
    IDLE = "idle"
    PAUSED = "paused"
    OFFLINE = "offline"


@dataclass(frozen=True, slots=True)
class Order:
    """A command to send, and the ticket whose service it ends (that resident may rate)."""

    name: str
    command: m.Command
    ends: str | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the window does after a key: a line of text, beeps, the evaluator."""

    ok: bool
    text: str
    beeps: int = 0
    arm: str | None = None  # ask the resident of this ticket for a rating
    disarm: bool = False


_PLAIN: dict[ClerkAction, tuple[str, type[m.CounterCommand]]] = {
    ClerkAction.NEXT: ("call_next", m.CallNext),
    ClerkAction.RECALL: ("recall", m.Recall),
    ClerkAction.NO_SHOW: ("no_show", m.NoShow),
    ClerkAction.DONE: ("done", m.Done),
}
_ENDS_SERVICE = {ClerkAction.NEXT, ClerkAction.DONE}
_DONE_TEXT = {"recall": "recalled", "no_show": "no-show", "pause": "paused",
              "resume": "resumed", "sign_out": "signed out"}


def number_of(ticket: str) -> str:
    """The printed number of a ticket id: 20261123-A012 -> A012."""
    return ticket.rsplit("-", 1)[-1]


def refusal(text: str, beeps: int = BEEP_REFUSED) -> Outcome:
    """An outcome that did nothing but tell the clerk why."""
    return Outcome(False, text, beeps)


class CounterSession:
    """One window's view of its counter and the orders its keys give."""

    def __init__(self, counter: str, *, transfer_service: str | None = None,
                 transfer_counter: str | None = None,
                 new_id: Callable[[], str] = lambda: uuid.uuid4().hex) -> None:
        self.counter = counter
        self.transfer_service = transfer_service
        self.transfer_counter = transfer_counter
        self.new_id = new_id
        self.state: m.CounterState | None = None
        self.floor: tuple[str, int] | None = None  # (day, rev) of the newest snapshot taken
        self.link_up = False
        self.controller_online = False  # its presence (retained or live) says online
        self.heard_live = False  # its live 'online' or our live snapshot since the link came up
        self.unanswered = False  # the last order got no answer at all
        self.signed_in_card: str | None = None  # the card that signed the clerk in here
        self.armed_for: str | None = None

    # ------------------------------------------------------------ what comes in
    def see_counter(self, state: m.CounterState | None, from_reply: bool = False,
                    retained: bool = False) -> bool:
        """Take a counter snapshot; True if taken.

        A retained snapshot counts unless older (business day, rev) than one already taken (a
        broker restarted from an older save hands those back); a live one is current at any
        rev (a new controller may run on another journal) and shows the controller is running;
        a reply's copy counts unless it is older than the one in hand.
        """
        if state is None or state.counter != self.counter:
            return False
        if from_reply and self.state is not None and state.updated < self.state.updated:
            return False
        if not from_reply and state.day is not None:
            if retained and self.floor is not None and (state.day, state.rev) < self.floor:
                log.warning("counter %s: dropped a stale snapshot (rev %d of %s)", self.counter,
                            state.rev, state.day)
                return False
            self.floor = (state.day, state.rev)
        self.heard_live = self.heard_live or not retained
        self.state = state
        self.unanswered = False
        return True

    def see_controller(self, presence: m.Presence | None, retained: bool = False) -> None:
        """The controller's presence: only 'online' counts, and only once the controller was
        heard live (its 'online', or our counter's snapshot) since the link came up: a retained
        'online' may be the broker's old save. A controller coming up clears "no answer": what
        went unanswered expired and will not run."""
        was_up = self.controller_up
        self.controller_online = presence is not None and presence.state is m.PresenceState.ONLINE
        if self.controller_online and not retained:
            self.heard_live = True
        if self.controller_up and not was_up:
            self.unanswered = False

    def see_link(self, up: bool) -> None:
        """The window's own link to the broker came up or dropped."""
        if up != self.link_up:
            self.heard_live = False  # up again only after a live message on this link
        self.link_up = up
        if not up:
            self.controller_online = False

    @property
    def controller_up(self) -> bool:
        """The controller is online and has been heard live since the link came up."""
        return self.controller_online and self.heard_live

    @property
    def lights(self) -> Lights:
        """Offline unless both links are up and answering; then paused, serving or idle."""
        if not (self.link_up and self.controller_up) or self.unanswered or self.state is None:
            return Lights.OFFLINE
        if self.state.status is not m.CounterStatus.OPEN:
            return Lights.PAUSED
        return Lights.SERVING if self.state.ticket is not None else Lights.IDLE

    # ------------------------------------------------------------ what goes out
    def order_for(self, action: ClerkAction) -> Order | Outcome:
        """The command a key gives, or why it gives none."""
        if action is ClerkAction.NEEDS_HOLD:
            return refusal("hold the key to confirm", BEEP_HOLD)
        if self.state is None:
            return refusal("the counter's state is not known yet")
        if action is ClerkAction.TRANSFER:
            return self.transfer_order(self.transfer_service, self.transfer_counter)
        if action is ClerkAction.PAUSE:
            return self._pause_or_resume()
        name, model = _PLAIN[action]
        ends = self.state.ticket if action in _ENDS_SERVICE else None
        return Order(name, model(id=self.new_id(), counter=self.counter), ends)

    def _pause_or_resume(self) -> Order | Outcome:
        assert self.state is not None
        status = self.state.status
        if status is m.CounterStatus.CLOSED:
            return refusal("the counter is closed; the hall manager opens it")
        if status is m.CounterStatus.PAUSED:
            return Order("resume", m.Resume(id=self.new_id(), counter=self.counter))
        return Order("pause", m.Pause(id=self.new_id(), counter=self.counter))

    def transfer_order(self, to_service: str | None, to_counter: str | None) -> Order | Outcome:
        """Transfer the ticket in hand: to a service, a counter, or (neither) its queue's front."""
        try:
            command = m.Transfer(id=self.new_id(), counter=self.counter,
                                 to_service=to_service, to_counter=to_counter)
        except ValidationError:
            return refusal(f"cannot transfer to {to_service or to_counter!r}: "
                           "a service is one capital letter, a counter its id")
        return Order("transfer", command)

    def rating_order(self, rating: int) -> Order:
        """Send a resident's rating (1-5) for the ticket the evaluator was armed for."""
        if not 1 <= rating <= 5:
            raise ValueError(f"a rating is 1-5, not {rating}")
        ticket, self.armed_for = self.armed_for, None
        return Order("evaluate", m.Evaluate(id=self.new_id(), counter=self.counter,
                                            rating=m.Rating(rating), ticket=ticket))

    def sign_in_order(self, staff_no: str, pin: str) -> Order | Outcome:
        """Sign a clerk in with staff number and PIN (the controller checks the PIN)."""
        try:
            command = m.SignIn(id=self.new_id(), counter=self.counter, staff_no=staff_no, pin=pin)
        except ValidationError as exc:
            field = str(exc.errors()[0]["loc"][0])
            what = "a PIN is 4-8 digits" if field == "pin" else "a staff number is letters/digits"
            return refusal(f"cannot sign in: {what}")
        return Order("sign_in", command)

    def sign_out_order(self) -> Order:
        """Sign the clerk out of this counter."""
        return Order("sign_out", m.SignOut(id=self.new_id(), counter=self.counter))

    def card_order(self, card: str) -> Order | Outcome:
        """A staff card on the reader: sign its clerk in (the controller knows whose it is),
        or out when the card that signed in here is swiped again."""
        clerk = self.state.clerk if self.state is not None else None
        if clerk is not None and self.signed_in_card == card:
            self.signed_in_card = None
            return self.sign_out_order()
        try:
            command = m.SignIn(id=self.new_id(), counter=self.counter, card=card)
        except ValidationError:
            return refusal(f"staff card …{card[-4:]} cannot be read as a staff card")
        self.signed_in_card = card
        return Order("sign_in", command)

    # ------------------------------------------------------------ answers
    def settle(self, order: Order, reply: m.Reply | None) -> Outcome:
        """What an answer (None: no answer after every retry) means for the window."""
        if reply is None:
            self.unanswered = True
            return refusal(f"no answer from the hall controller ({order.name})", BEEP_NO_ANSWER)
        self.unanswered = False
        if not reply.ok:
            if reply.error is not None and reply.error.code is m.ErrorCode.SIGN_IN_REQUIRED:
                return refusal(SIGN_IN_FIRST, BEEP_SIGN_IN)
            reason = reply.error.message if reply.error else "refused"
            return refusal(f"{order.name}: {reason}")
        try:
            result: BaseModel | None = m.result_of(reply, order.name)
        except m.PayloadError as exc:  # done all the same: only its details are lost
            log.error("%s: unreadable result: %s", order.name, exc)
            result = None
        if isinstance(result, m.CounterResult | m.CallResult | m.TransferResult):
            self.see_counter(result.counter, from_reply=True)
        return self._success(order, result)

    def _success(self, order: Order, result: BaseModel | None) -> Outcome:
        ended = f"{number_of(order.ends)} done" if order.ends else ""
        if order.name == "call_next":
            called = result.called if isinstance(result, m.CallResult) else None
            number = called.number if called is not None else None
            text = ", ".join(t for t in (ended, f"called {number}" if number else "") if t)
            return self._after_service(order, text or "nobody waiting")
        if order.name == "done":
            return self._after_service(order, ended or "done")
        if order.name == "evaluate" and isinstance(result, m.EvaluateResult):
            return Outcome(True, f"rated {result.rating} for {result.ticket}")
        if order.name == "transfer":
            return Outcome(True, _transferred(order, result))
        if order.name == "sign_in":
            assert isinstance(order.command, m.SignIn)
            return Outcome(True, f"signed in: {order.command.staff_no}")  # logs: no names
        return Outcome(True, _DONE_TEXT.get(order.name, f"{order.name} ok"))

    def _after_service(self, order: Order, text: str) -> Outcome:
        """Arm the evaluator for the ticket whose service ended; a bare call disarms it."""
        self.armed_for = order.ends
        if order.ends is not None:
            return Outcome(True, text, arm=order.ends)
        return Outcome(True, text, disarm=order.name == "call_next")


def _transferred(order: Order, result: BaseModel | None) -> str:
    """Where a transferred ticket went, in a line for the clerk."""
    command = order.command
    assert isinstance(command, m.Transfer)
    ticket = result.ticket if isinstance(result, m.TransferResult) else None
    number = "the ticket" if ticket is None else ticket.number
    service = command.to_service if ticket is None else ticket.service
    if command.to_counter is not None:
        return f"{number} transferred to counter {command.to_counter}"
    return f"{number} back to the front of queue {service}"
