"""What the kiosk says at each step, as clip keys of the voice pack (voice/kiosk_words.py).

Pure logic: `prompt_after(before, event, flow)` decides whether a step is spoken and what.
A step the resident reaches is spoken (choosing, printing, the ticket, a notice, help, a
fault that stopped their ticket); screens nobody is at are not (the kiosk coming back to
idle after a resident left, or going out of service on its own). A touch on a screen
(`SpeakRequested`) says that screen again. Nothing personal is ever spoken: the ticket
number (which the lobby calls aloud anyway), how many are ahead and the wait, no more.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from kiosk.availability import Window, appointment_offer
from kiosk.events import Back, Event, Phase, Speak, SpeakRequested
from kiosk.texts import minutes
from protocol.messages import TicketView

if TYPE_CHECKING:
    from kiosk.flow import Flow

MAX_SPOKEN = 999  # larger numbers are read digit by digit
_SESSION = (Phase.READING, Phase.CHOOSING, Phase.CONFIRMING, Phase.PRINTING, Phase.NOTICE,
            Phase.STAFF_HELP)
_FAULT_CLIPS = ("paper_out", "paper_low", "offline", "error", "reader", "link")


def spoken_number(n: int) -> tuple[str, ...]:
    """Clip keys counting ``n`` people or minutes: 两, 十二, 二十, 一百零五, 两百三十."""
    if n < 0:
        raise ValueError(f"{n}: cannot say a negative count")
    if n > MAX_SPOKEN:
        return tuple(f"digit_{d}" for d in str(n))
    if n == 2:
        return ("num_liang",)
    hundreds, rest = divmod(n, 100)
    if not hundreds:
        return _below_hundred(rest)
    keys = ("num_liang" if hundreds == 2 else f"digit_{hundreds}", "num_bai")
    if rest == 0:
        return keys
    if rest < 10:
        return (*keys, "digit_0", f"digit_{rest}")
    return (*keys, *(("digit_1",) if rest < 20 else ()), *_below_hundred(rest))


def _below_hundred(n: int) -> tuple[str, ...]:
    tens, units = divmod(n, 10)
    if not tens:
        return (f"digit_{units}",)
    head = (f"digit_{tens}",) if tens > 1 else ()
    return (*head, "num_shi", *((f"digit_{units}",) if units else ()))


def ticket_number(number: str) -> tuple[str, ...]:
    """A ticket number read character by character: A013 -> letter_A digit_0 digit_1 digit_3."""
    keys = []
    for char in number.strip().upper():
        if "A" <= char <= "Z":
            keys.append(f"letter_{char}")
        elif "0" <= char <= "9":
            keys.append(f"digit_{char}")
        else:
            raise ValueError(f"ticket number {number!r}: no clip says {char!r}")
    return tuple(keys)


# ---------------------------------------------------------------- each screen's prompt
def invitation() -> Speak:
    """The idle screen: 请刷身份证取号."""
    return Speak("idle", (("kiosk_swipe",),))


def ticket_prompt(ticket: TicketView) -> Speak:
    """请取走您的号票，您的号码是 A013，您前面还有 5 人，预计等候约 12 分钟，请留意叫号: the
    ticket's own figures, the wait rounded as the ticket prints it (under a minute: 不到一分钟)."""
    words: list[tuple[str, ...]] = [("kiosk_take_ticket",),
                                    ("kiosk_your_number", *ticket_number(ticket.number))]
    ahead = ticket.ahead or 0
    if ahead:
        words.append(("kiosk_ahead", *spoken_number(ahead), "kiosk_people"))
    else:
        words.append(("kiosk_nobody_ahead",))
    if ticket.estimated_wait_min is None:
        words.append(("kiosk_wait_unknown",))
    elif (wait := minutes(ticket.estimated_wait_min)) < 1:  # as the ticket prints it
        words.append(("kiosk_wait_under_minute",))
    else:
        words.append(("kiosk_wait_about", *spoken_number(wait), "kiosk_minutes"))
    words.append(("kiosk_listen",))
    return Speak(f"done {ticket.number}", tuple(words))


def screen_prompt(flow: Flow, now: datetime) -> Speak | None:
    """What the flow's current screen says; None for the brief reading and confirming."""
    phase = flow.phase
    if phase is Phase.IDLE:
        return invitation()
    if phase is Phase.CHOOSING:
        return _choosing(flow, now)
    if phase is Phase.PRINTING:
        return Speak("printing", (("kiosk_printing",),))
    if phase is Phase.DONE and flow.session is not None and flow.session.ticket is not None:
        return ticket_prompt(flow.session.ticket)
    if phase is Phase.NOTICE and flow.notice is not None:
        stem = flow.notice.title.removesuffix(".title")
        return Speak(f"notice {stem}", ((f"kiosk_{stem}",),))
    if phase is Phase.OUT_OF_SERVICE:
        return _out_of_service(flow)
    if phase is Phase.STAFF_HELP:
        return Speak("help", (("kiosk_help",),))
    return None


def _choosing(flow: Flow, now: datetime) -> Speak:
    words: list[tuple[str, ...]] = [("kiosk_choose",)]
    session = flow.session
    if session is not None and session.resident.green:
        words.append(("kiosk_green",))
    if flow.hall is not None and session is not None:
        offer = appointment_offer(flow.hall, session.lookup, now)
        if offer is not None and offer.window is Window.OPEN:
            words.append(("kiosk_appointment",))
    return Speak("choosing", tuple(words))


def _out_of_service(flow: Flow) -> Speak:
    faults = [key.removeprefix("fault.") for key in flow.faults]
    words = [(f"kiosk_fault_{fault}",) for fault in faults if fault in _FAULT_CLIPS]
    if flow.ticket_voided:
        words.append(("kiosk_ticket_voided",))
    words.append(("kiosk_out_of_service",))
    return Speak("out of service", tuple(words))


# ---------------------------------------------------------------- when to speak
def prompt_after(before: Phase, event: Event, flow: Flow, changed: bool,
                 now: datetime) -> Speak | None:
    """The prompt a step calls for: ``changed`` when the screen (or its notice) changed."""
    if isinstance(event, SpeakRequested):
        return screen_prompt(flow, now)
    if not changed:
        return None
    phase = flow.phase
    if phase in (Phase.READING, Phase.CONFIRMING):
        return None
    if phase is Phase.IDLE:  # walked back from the service list: still there
        return invitation() if isinstance(event, Back) and before in _SESSION else None
    if phase is Phase.OUT_OF_SERVICE and before not in (*_SESSION, Phase.DONE):
        return None  # nobody is at the kiosk
    return screen_prompt(flow, now)
