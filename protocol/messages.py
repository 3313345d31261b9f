"""Typed payloads of every topic: commands, replies, state snapshots, events, presence.

Every payload is JSON carrying ``"v": 1``. Models forbid unknown keys, so a typo in a
field is an error that names the field rather than a silently ignored value.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import IntEnum, StrEnum
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticSerializationError

PROTOCOL_VERSION: Literal[1] = 1
MAX_COMMAND_BYTES = 8192  # a command's payload; anything longer is refused unread
MAX_NESTING = 8  # arrays and objects inside each other


def _exact_int(value: Any) -> Any:
    """JSON numbers only: no true for 1, no 1.0, no "1" (the protocol is strict)."""
    if type(value) is not int and not isinstance(value, IntEnum):
        raise ValueError("must be a JSON integer")
    return value


ServiceId = Annotated[str, Field(pattern=r"^[A-Z]$", description="service id = ticket prefix")]
CounterId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,40}$")]
TicketId = Annotated[str, Field(pattern=r"^[0-9]{8}-[A-Z][0-9]{3,4}$",
                                description="YYYYMMDD-A012")]
IdHash = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$", description="HMAC-SHA256 of the ID")]
StaffName = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,40}$",
                                 description="a signed-in staff member's account name")]
CommandId = Annotated[str, Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$",
                                 description="unique per device; reuse it only to retry")]
Version = Annotated[Literal[1], BeforeValidator(_exact_int)]
R = TypeVar("R", bound=BaseModel)  # a reply's result model


class Message(BaseModel):
    """Base of every payload: frozen, strict about keys and types (no 1 for true, no "5"
    for 5), versioned."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    v: Version = PROTOCOL_VERSION


class Role(StrEnum):
    """What a device is, which decides what it may say."""

    CONTROLLER = "controller"
    KIOSK = "kiosk"
    CALLER = "caller"
    DISPLAY = "display"
    MANAGER = "manager"
    UPSTREAM = "upstream"


class TicketStatus(StrEnum):
    PENDING_PRINT = "pending_print"  # committed, not yet printed: not callable
    WAITING = "waiting"
    CALLED = "called"
    SERVING = "serving"
    DONE = "done"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"
    VOID = "void"  # never reached the resident (print failed)


class Channel(StrEnum):
    """Why a ticket may be served before others."""

    NORMAL = "normal"
    GREEN = "green"  # aged 70+, disabled, urgent
    APPOINTMENT = "appointment"


class CounterStatus(StrEnum):
    OPEN = "open"
    PAUSED = "paused"
    CLOSED = "closed"


class Rating(IntEnum):
    """The national 好差评 scale."""

    VERY_DISSATISFIED = 1
    DISSATISFIED = 2
    BASIC = 3
    SATISFIED = 4
    VERY_SATISFIED = 5


class AlertKind(StrEnum):
    LONG_WAIT = "long_wait"
    PAUSED_TOO_LONG = "paused_too_long"
    DEVICE_OFFLINE = "device_offline"
    PRINTER = "printer"
    BAD_RATING = "bad_rating"
    HELP_REQUESTED = "help_requested"
    STORAGE = "storage"  # the journal cannot be written: nothing can be issued or called
    SIGN_IN_LOCKED = "sign_in_locked"  # too many wrong PINs from a caller or for a clerk
    NO_CLERK = "no_clerk"  # a window open without a clerk while residents wait for it
    LONG_SERVICE = "long_service"  # a ticket at a window longer than its service's target


# ---------------------------------------------------------------- commands
class Command(Message):
    """A request; ``id`` is the command id that makes it idempotent. ``deadline`` (the
    controller's clock, epoch seconds, as learnt from replies' ``clock``) is when the sender
    gives up: the controller refuses the command after it, however it was delayed."""

    id: CommandId
    deadline: float | None = Field(None, allow_inf_nan=False, ge=0)
    by: StaffName | None = None  # a manager's device: the staff member it acts for (journaled)


class IssueTicket(Command):
    service: ServiceId
    id_hash: IdHash | None = None
    green: StrictBool = False
    appointment: StrictBool = False
    print_on_kiosk: StrictBool = True  # a kiosk always prints; staff may hand a ticket over by hand


class Lookup(Command):
    """What a swiped resident has today: open tickets and an appointment to check in."""

    id_hash: IdHash


class RequestHelp(Command):
    """A resident pressed 寻求帮助 at a kiosk: staff should come."""


class TicketPrinted(Command):
    ticket: TicketId


class VoidTicket(Command):
    ticket: TicketId
    reason: str = Field(max_length=200)


class CounterCommand(Command):
    """A counter action; a caller may omit ``counter`` (it acts on its own)."""

    counter: CounterId | None = None


class CallNext(CounterCommand):
    pass


class Recall(CounterCommand):
    pass


class NoShow(CounterCommand):
    pass


class StartService(CounterCommand):
    pass


class Done(CounterCommand):
    pass


class Transfer(CounterCommand):
    to_service: ServiceId | None = None
    to_counter: CounterId | None = None


class PauseReason(StrEnum):
    """Why a window pauses: shown on the tablet and counted in the reports."""

    LUNCH = "lunch"  # 午休
    MEETING = "meeting"  # 开会
    SYSTEM_DOWN = "system_down"  # 系统故障 (the line-of-business system, not ours)
    BREAK = "break"  # 短暂离开
    OTHER = "other"  # 其他


class Pause(CounterCommand):
    reason: PauseReason = PauseReason.OTHER


class Resume(CounterCommand):
    pass


class SignIn(CounterCommand):
    """A clerk signs in with staff number and PIN, or with a staff card alone."""

    staff_no: str | None = Field(None, pattern=r"^[A-Za-z0-9-]{1,20}$")
    pin: str | None = Field(None, pattern=r"^\d{4,8}$")
    card: str | None = Field(None, pattern=r"^[A-Za-z0-9]{4,32}$")

    @model_validator(mode="after")
    def _one_way(self) -> SignIn:
        by_pin = self.card is None and self.staff_no is not None and self.pin is not None
        by_card = self.card is not None and self.staff_no is None and self.pin is None
        if not (by_pin or by_card):
            raise ValueError("give staff_no and pin, or card alone")
        return self


class SignOut(CounterCommand):
    pass


class Evaluate(CounterCommand):
    rating: Annotated[Rating, BeforeValidator(_exact_int)]
    ticket: TicketId | None = None


class OpenCounter(CounterCommand):
    pass


class CloseCounter(CounterCommand):
    pass


class SetCounterServices(CounterCommand):
    services: list[ServiceId | Literal["*"]] = Field(min_length=1)


class SetIntake(Command):
    service: ServiceId
    open: StrictBool


class SetNotice(Command):
    text: str = Field(max_length=300)


class CancelTicket(Command):
    ticket: TicketId


class MoveTicket(Command):
    ticket: TicketId
    to_service: ServiceId


class Reprint(Command):
    ticket: TicketId


class BookAppointment(Command):
    id_hash: IdHash
    service: ServiceId
    slot: datetime  # with its UTC offset; the hall books at most a year ahead

    @field_validator("slot")
    @classmethod
    def _sane_slot(cls, slot: datetime) -> datetime:
        if slot.tzinfo is None:
            raise ValueError("needs a UTC offset")
        if not 2000 <= slot.year <= 2100:
            raise ValueError("year out of range")
        return slot


class EndDay(Command):
    pass


class FollowUpAlert(Command):
    """The manager has dealt with an alert (e.g. called back a dissatisfied resident)."""

    kind: AlertKind
    subject: str = Field(min_length=1, max_length=80)
    note: str = Field("", max_length=300)


COMMANDS: dict[str, type[Command]] = {
    "issue": IssueTicket,
    "lookup": Lookup,
    "printed": TicketPrinted,
    "help": RequestHelp,
    "void": VoidTicket,
    "call_next": CallNext,
    "recall": Recall,
    "no_show": NoShow,
    "start": StartService,
    "done": Done,
    "transfer": Transfer,
    "pause": Pause,
    "resume": Resume,
    "sign_in": SignIn,
    "sign_out": SignOut,
    "evaluate": Evaluate,
    "open_counter": OpenCounter,
    "close_counter": CloseCounter,
    "set_counter_services": SetCounterServices,
    "set_intake": SetIntake,
    "set_notice": SetNotice,
    "cancel": CancelTicket,
    "move": MoveTicket,
    "reprint": Reprint,
    "book": BookAppointment,
    "end_day": EndDay,
    "follow_up": FollowUpAlert,
}
COMMAND_NAMES: dict[type[Command], str] = {model: name for name, model in COMMANDS.items()}

_CALLER = {"call_next", "recall", "no_show", "start", "done", "transfer", "pause", "resume",
           "sign_in", "sign_out", "evaluate"}
_KIOSK = {"issue", "lookup", "printed", "void", "help"}
MANAGER_COMMANDS = frozenset({
    "open_counter", "close_counter", "pause", "resume", "set_counter_services", "set_intake",
    "set_notice", "issue", "cancel", "reprint", "move", "end_day", "follow_up", "book"})
ALLOWED: dict[Role, frozenset[str]] = {
    Role.KIOSK: frozenset(_KIOSK),
    Role.CALLER: frozenset(_CALLER),
    Role.DISPLAY: frozenset(),
    Role.UPSTREAM: frozenset({"book"}),
    Role.MANAGER: MANAGER_COMMANDS,
    Role.CONTROLLER: frozenset(),
}


# ---------------------------------------------------------------- replies
class ErrorCode(StrEnum):
    MALFORMED = "malformed"  # not JSON, or fields wrong
    BAD_VERSION = "bad_version"
    UNKNOWN_COMMAND = "unknown_command"
    UNKNOWN_DEVICE = "unknown_device"
    FORBIDDEN = "forbidden"  # this role may not send this command
    UNKNOWN_SERVICE = "unknown_service"
    UNKNOWN_COUNTER = "unknown_counter"
    UNKNOWN_TICKET = "unknown_ticket"
    CLOSED = "closed"  # outside hours, or intake stopped
    QUOTA_EXHAUSTED = "quota_exhausted"  # 今日已满
    ALREADY_HOLDS = "already_holds"  # one open ticket per person per service
    NO_APPOINTMENT = "no_appointment"
    OUTSIDE_WINDOW = "outside_window"  # appointment check-in too early or late
    SLOT_FULL = "slot_full"  # the appointment slot has as many bookings as it takes
    NOTHING_WAITING = "nothing_waiting"
    INVALID_STATE = "invalid_state"  # e.g. recall with no ticket in hand
    LIMIT_REACHED = "limit_reached"  # e.g. recall twice already
    BAD_CREDENTIALS = "bad_credentials"
    SIGN_IN_REQUIRED = "sign_in_required"  # the counter has no clerk signed in
    TOO_MANY_ATTEMPTS = "too_many_attempts"  # sign-in attempts: wait, or ask the manager
    ID_REUSED = "id_reused"  # this command id was used before for another command
    EXPIRED = "expired"  # arrived after its sender's deadline (MQTT message expiry): not run
    STORAGE_UNAVAILABLE = "storage_unavailable"  # the journal cannot be written: nothing done
    INTERNAL = "internal"


class ErrorInfo(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    code: ErrorCode
    message: str


class Reply(Message):
    """The answer to one command; the same command id always gets the same reply."""

    id: str
    ok: StrictBool
    result: dict[str, Any] | None = None
    error: ErrorInfo | None = None
    clock: float | None = None  # the controller's clock (epoch s) as it sent this reply

    def result_as(self, model: type[R]) -> R:
        """The result read as ``model`` (see ``RESULTS``); PayloadError names what is amiss."""
        if not self.ok or self.result is None:
            raise PayloadError(ErrorCode.MALFORMED,
                               f"reply {self.id}: no result to read as {model.__name__}")
        try:
            return model.model_validate(self.result)
        except ValidationError as exc:
            raise PayloadError(ErrorCode.MALFORMED, f"reply {self.id}: not a {model.__name__}: "
                                                    f"{_describe(exc.errors())}") from exc


class TicketView(BaseModel):
    """A ticket as devices see it: nothing personal."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    ticket: TicketId
    number: str
    service: ServiceId
    status: TicketStatus
    channel: Channel
    issued_at: datetime
    ahead: int | None = None
    estimated_wait_min: float | None = None
    counter: CounterId | None = None
    token: str | None = None  # the status page's unguessable token


class LookupResult(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    open_tickets: list[TicketView]
    appointment_service: ServiceId | None = None
    appointment_slot: datetime | None = None
    appointment_checkin_from: datetime | None = None
    appointment_checkin_until: datetime | None = None


# ---------------------------------------------------------------- state
class ServiceInfo(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    id: ServiceId
    name: str
    name_en: str
    daily_quota: int | None
    last_ticket: str | None  # "HH:MM" local


class CounterInfo(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    id: CounterId
    name: str
    name_en: str
    services: list[str]


class HallState(Message):
    """Hall information every device needs; retained."""

    hall: str
    name: str
    name_en: str
    timezone: str
    date: str  # YYYY-MM-DD, the hall's business day
    open_at: str | None  # "HH:MM" today, None when closed all day
    close_at: str | None
    notice: str
    green_age: int  # kiosks put residents this old in the green channel
    services: list[ServiceInfo]
    counters: list[CounterInfo]
    status_url_base: str
    rev: int = Field(0, ge=0)  # the day's committed changes when built: never goes back


class ServiceState(Message):
    service: ServiceId
    waiting: int
    estimated_wait_min: float | None  # None: no window serves it now (wait not yet known)
    longest_wait_min: float
    issued_today: int
    quota_left: int | None
    intake_open: StrictBool
    updated: datetime
    day: str | None = None  # YYYY-MM-DD, the business day ``rev`` counts in
    rev: int = Field(0, ge=0)  # the day's committed changes when built: never goes back


class Clerk(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str
    staff_no: str


class CounterState(Message):
    counter: CounterId
    name: str
    status: CounterStatus
    services: list[str]
    ticket: TicketId | None = None
    number: str | None = None
    ticket_status: TicketStatus | None = None
    clerk: Clerk | None = None
    since: datetime | None = None  # when the current ticket was called, or the pause began
    pause_reason: PauseReason | None = None  # while paused
    recalls: int = 0
    updated: datetime
    day: str | None = None  # YYYY-MM-DD, the business day ``rev`` counts in
    rev: int = Field(0, ge=0)  # the day's committed changes when built: never goes back


class CallEvent(Message):
    seq: int  # increases by one with every call or recall of the day
    ticket: TicketId
    number: str
    service: ServiceId
    counter: CounterId
    counter_name: str
    recall: StrictBool
    at: datetime


class RecentCalls(Message):
    calls: list[CallEvent]  # newest first
    day: str | None = None  # YYYY-MM-DD, the business day ``rev`` counts in
    rev: int = Field(0, ge=0)  # the day's committed changes when built: never goes back


class ServiceSummary(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    service: ServiceId
    name: str
    waiting: int
    estimated_wait_min: float | None  # None: no window serves it now (wait not yet known)


class HallSummary(Message):
    """What goes upstream to the city: aggregate figures only."""

    hall: str
    name: str
    name_en: str
    at: datetime
    counters_open: int
    issued_today: int
    served_today: int
    services: list[ServiceSummary]
    day: str | None = None  # YYYY-MM-DD, the business day ``rev`` counts in
    rev: int = Field(0, ge=0)  # the day's committed changes when built: never goes back


class AlertKey(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    kind: AlertKind
    subject: str


class Alert(Message):
    kind: AlertKind
    subject: str  # a service, counter or device id
    message: str
    at: datetime


class AlertsState(Message):
    """The alerts on the manager's board; retained, republished whenever the board changes."""

    date: str  # YYYY-MM-DD, the hall's business day
    active: list[Alert]
    handled: list[AlertKey]  # followed up by the manager while their cause lasts


class PresenceState(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"  # the broker's last will
    STOPPED = "stopped"  # a clean shutdown


class Presence(Message):
    state: PresenceState
    role: Role


class PrinterHealth(StrEnum):
    OK = "ok"
    PAPER_LOW = "paper_low"
    PAPER_OUT = "paper_out"
    OFFLINE = "offline"
    ERROR = "error"


class DeviceHealth(Message):
    ok: StrictBool
    printer: PrinterHealth | None = None
    reader: bool | None = None
    detail: str = ""
    at: datetime


class BridgeFlag(Message):
    """The city bridge's state on ``city/H/bridge``: Mosquitto's own notification, retained on
    the hall's broker as the bytes "1" (connected to the city) or "0" (not: the link dropped,
    or the bridge's last will on the city's side). Not JSON: read it with ``from_flag``."""

    connected: StrictBool

    @classmethod
    def from_flag(cls, payload: bytes) -> BridgeFlag:
        """The flag's bytes as Mosquitto publishes them; PayloadError for anything else."""
        if payload in (b"0", b"1"):
            return cls(connected=payload == b"1")
        raise PayloadError(ErrorCode.MALFORMED,
                           f'a bridge flag is "1" or "0", not {payload[:40]!r}')


# ---------------------------------------------------------------- results of replies
class _Result(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TicketResult(_Result):
    """issue, printed, void, cancel, move, reprint: the ticket as it is now."""

    ticket: TicketView


class CounterResult(_Result):
    """A counter action: the counter's new state."""

    counter: CounterState


class CallResult(_Result):
    """call_next: the ticket called (null: none waiting, the one in hand was finished)."""

    called: TicketView | None
    counter: CounterState


class TransferResult(_Result):
    ticket: TicketView
    counter: CounterState


class HelpResult(_Result):
    help: Literal["requested"]


class EvaluateResult(_Result):
    ticket: TicketId
    rating: int


class IntakeResult(_Result):
    service: ServiceId
    open: bool


class NoticeResult(_Result):
    notice: str


class BookResult(_Result):
    service: ServiceId
    slot: str  # the booked slot as sent, ISO 8601 with its UTC offset


class EndDayResult(_Result):
    ended: str  # YYYY-MM-DD, the business day ended


class FollowUpResult(_Result):
    kind: str
    subject: str


RESULTS: dict[str, type[BaseModel]] = {
    "issue": TicketResult, "lookup": LookupResult, "printed": TicketResult,
    "help": HelpResult, "void": TicketResult, "call_next": CallResult,
    "recall": CounterResult, "no_show": CounterResult, "start": CounterResult,
    "done": CounterResult, "transfer": TransferResult, "pause": CounterResult,
    "resume": CounterResult, "sign_in": CounterResult, "sign_out": CounterResult,
    "evaluate": EvaluateResult, "open_counter": CounterResult, "close_counter": CounterResult,
    "set_counter_services": CounterResult, "set_intake": IntakeResult,
    "set_notice": NoticeResult, "cancel": TicketResult, "move": TicketResult,
    "reprint": TicketResult, "book": BookResult, "end_day": EndDayResult,
    "follow_up": FollowUpResult,
}  # command name -> the model of its reply's result
assert set(RESULTS) == set(COMMANDS), "every command needs the shape of its result"


def result_of(reply: Reply, name: str) -> BaseModel:
    """The result of a reply to command ``name``, read as its model in ``RESULTS``."""
    model = RESULTS.get(name)
    if model is None:
        raise PayloadError(ErrorCode.UNKNOWN_COMMAND, f"no command {name!r}")
    return reply.result_as(model)


M = TypeVar("M", bound=Message)


class PayloadError(ValueError):
    """A payload that is not valid JSON of the expected model; the message names the problem."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code


def check_shape(payload: bytes, limit: int = MAX_COMMAND_BYTES) -> None:
    """Refuse a payload too long or nested too deeply before any parser sees it."""
    if len(payload) > limit:
        raise PayloadError(ErrorCode.MALFORMED, f"payload longer than {limit} bytes")
    if payload.count(b"[") + payload.count(b"{") <= MAX_NESTING:
        return
    depth = 0
    in_string = escaped = False
    for byte in payload:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            if depth > MAX_NESTING:
                raise PayloadError(ErrorCode.MALFORMED,
                                   f"payload nested more than {MAX_NESTING} deep")
        elif byte in (0x5D, 0x7D):
            depth -= 1


_COMMAND_ID = re.compile(rb'"id"\s*:\s*"([A-Za-z0-9_-]{1,64})"')


def command_id_of(payload: bytes) -> str:
    """The command id of any payload, for its error reply: the first ``"id":"…"`` of
    allowed characters, found without parsing (the payload may be hostile); else ""."""
    found = _COMMAND_ID.search(payload[:MAX_COMMAND_BYTES])
    return found.group(1).decode() if found else ""


def decode(model: type[M], payload: bytes | str) -> M:
    """Validate a JSON payload as ``model``, raising PayloadError with a readable reason.
    Text that cannot be sent on (a lone surrogate) is refused like any other bad field."""
    try:
        message = model.model_validate_json(payload)
        message.model_dump_json()
        return message
    except PydanticSerializationError as exc:
        raise PayloadError(ErrorCode.MALFORMED, "text must be valid Unicode") from exc
    except ValidationError as exc:
        errors = exc.errors()
        if any(e["loc"] == ("v",) for e in errors):
            raise PayloadError(ErrorCode.BAD_VERSION,
                               f"payload version must be {PROTOCOL_VERSION}") from exc
        raise PayloadError(ErrorCode.MALFORMED, _describe(errors)) from exc


def _describe(errors: list[Any]) -> str:
    parts = []
    for e in errors[:3]:
        where = ".".join(str(p) for p in e["loc"]) or "payload"
        parts.append(f"{where}: {e['msg']}")
    return "; ".join(parts)


def encode(message: Message) -> bytes:
    """Serialise a payload to compact JSON bytes."""
    return message.model_dump_json(exclude_none=False).encode()
