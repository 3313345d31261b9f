"""What goes into the kiosk's flow (inputs) and what comes out of it (effects).

Inputs come from the card reader, the touchscreen, the controller, the printer, the clock
and the link; effects are what the shell (kiosk.runtime) must do. All are frozen values.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from kiosk.identity import Resident
from protocol.messages import (
    Command,
    DeviceHealth,
    HallState,
    HallSummary,
    PrinterHealth,
    Reply,
    ServiceState,
    TicketView,
)


class Phase(StrEnum):
    """The screen the kiosk is on."""

    IDLE = "idle"
    READING = "reading"  # card read; asking the controller what this resident has today
    CHOOSING = "choosing"
    CONFIRMING = "confirming"  # printer checked, then the issue command sent
    PRINTING = "printing"
    DONE = "done"
    NOTICE = "notice"  # a refusal or problem, explained
    OUT_OF_SERVICE = "out_of_service"
    STAFF_HELP = "staff_help"


# ---------------------------------------------------------------- inputs
@dataclass(frozen=True, slots=True)
class CardRead:
    resident: Resident


@dataclass(frozen=True, slots=True)
class CardFailed:
    problem: str
    unusable: bool = False  # a card read fine but not valid, rather than a bad read


@dataclass(frozen=True, slots=True)
class ReaderChanged:
    ok: bool
    detail: str = ""


@dataclass(frozen=True, slots=True)
class ServicePicked:
    service: str
    appointment: bool = False


@dataclass(frozen=True, slots=True)
class Back:
    pass


@dataclass(frozen=True, slots=True)
class LanguageToggled:
    pass


@dataclass(frozen=True, slots=True)
class HelpRequested:
    pass


@dataclass(frozen=True, slots=True)
class SpeakRequested:
    """A touch on the screen itself: say this screen's prompt again."""


@dataclass(frozen=True, slots=True)
class Answered:
    reply: Reply


@dataclass(frozen=True, slots=True)
class NoAnswer:
    command_id: str
    reason: str
    sent: bool = True  # False: it never left the kiosk (no connection), so nothing to settle


@dataclass(frozen=True, slots=True)
class PrinterChecked:
    status: PrinterHealth
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Printed:
    ticket: str
    status: PrinterHealth = PrinterHealth.OK


@dataclass(frozen=True, slots=True)
class PrintFailed:
    ticket: str
    status: PrinterHealth | None  # None: the printer is fine, the ticket could not be drawn
    detail: str


@dataclass(frozen=True, slots=True)
class Tick:
    pass


@dataclass(frozen=True, slots=True)
class LinkChanged:
    up: bool


@dataclass(frozen=True, slots=True)
class HallUpdated:
    hall: HallState
    retained: bool = False  # handed back from the broker's store, not just published


@dataclass(frozen=True, slots=True)
class ServiceUpdated:
    state: ServiceState
    retained: bool = False  # handed back from the broker's store, not just published


@dataclass(frozen=True, slots=True)
class NearbyUpdated:
    """A nearby centre's latest summary, from the city bridge; None when it was cleared."""

    hall: str
    summary: HallSummary | None


Event = (CardRead | CardFailed | ReaderChanged | ServicePicked | Back | LanguageToggled
         | HelpRequested | SpeakRequested | Answered | NoAnswer | PrinterChecked | Printed
         | PrintFailed | Tick | LinkChanged | HallUpdated | ServiceUpdated | NearbyUpdated)


# ---------------------------------------------------------------- effects
@dataclass(frozen=True, slots=True)
class Send:
    """Send a command; with ``retry`` resend the same command until the controller answers."""

    name: str
    command: Command
    retry: bool = False


@dataclass(frozen=True, slots=True)
class CheckPrinter:
    pass


@dataclass(frozen=True, slots=True)
class PrintTicket:
    ticket: TicketView
    hall: HallState


@dataclass(frozen=True, slots=True)
class PublishHealth:
    health: DeviceHealth


@dataclass(frozen=True, slots=True)
class Show:
    phase: Phase


@dataclass(frozen=True, slots=True)
class Speak:
    """Say a prompt: clip keys of the voice pack, grouped in words (a pause after each)."""

    name: str  # the step, for logs: "printing", "done A013", "notice card_unreadable"
    words: tuple[tuple[str, ...], ...]

    @property
    def clips(self) -> tuple[str, ...]:
        """Every clip key, in the order they play."""
        return tuple(key for word in self.words for key in word)


Effect = Send | CheckPrinter | PrintTicket | PublishHealth | Show | Speak
