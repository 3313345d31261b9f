"""The soft caller's keys and screen as pure functions: ``press`` and ``render`` over plain state.

For windows without a GPIO keypad: the clerk drives the counter from the keyboard. The
terminal itself (raw keys, redrawing) is ``caller.terminal``; everything here is testable
without a terminal, MQTT or asyncio.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum

from caller.session import ClerkAction, Lights, number_of
from protocol import messages as m

ENTER = "\n"
BACKSPACE = "\x7f"
ESCAPE = "\x1b"
MAX_TYPED = 20
MAX_PIN = 8

KEY_HELP = (
    "[n] 叫号 next   [r] 重呼 recall   [s] 过号 no-show   [d] 办结 done",
    "[t] 转移 transfer   [p] 暂停/恢复 pause/resume   [1-5] 评价 rate",
    "[i] 签到 sign in   [o] 签退 sign out   [q] 退出 quit",
)
LIGHTS_TEXT = {
    Lights.SERVING: "服务中 serving",
    Lights.IDLE: "空闲 idle",
    Lights.PAUSED: "暂停服务 paused",
    Lights.OFFLINE: "离线 offline",
}


class Mode(StrEnum):
    """Which prompt the keyboard is in."""

    KEYS = "keys"
    STAFF_NO = "staff_no"
    PIN = "pin"
    TRANSFER = "transfer"
    CONFIRM_NO_SHOW = "confirm_no_show"


@dataclass(frozen=True, slots=True)
class Keys:
    """The keyboard's state: the open prompt, what was typed, a hint for the clerk."""

    mode: Mode = Mode.KEYS
    typed: str = ""
    staff_no: str = ""
    hint: str = ""


@dataclass(frozen=True, slots=True)
class Board:
    """Everything the screen shows, taken from the station."""

    counter: str
    lights: Lights
    state: m.CounterState | None = None
    hall: m.HallState | None = None
    services: Mapping[str, m.ServiceState] | None = None
    armed_for: str | None = None
    message: str = ""


# ---------------------------------------------------------------- what a key asks for
@dataclass(frozen=True, slots=True)
class Act:
    action: ClerkAction


@dataclass(frozen=True, slots=True)
class SignIn:
    staff_no: str
    pin: str


@dataclass(frozen=True, slots=True)
class SignOut:
    pass


@dataclass(frozen=True, slots=True)
class Transfer:
    to_service: str | None
    to_counter: str | None


@dataclass(frozen=True, slots=True)
class Rate:
    rating: int


@dataclass(frozen=True, slots=True)
class Quit:
    pass


Intent = Act | SignIn | SignOut | Transfer | Rate | Quit

_SINGLE: dict[str, Intent] = {
    "n": Act(ClerkAction.NEXT),
    "r": Act(ClerkAction.RECALL),
    "d": Act(ClerkAction.DONE),
    "p": Act(ClerkAction.PAUSE),
    "o": SignOut(),
    "q": Quit(),
    **{str(n): Rate(n) for n in range(1, 6)},
}
_PROMPTS = {"i": Mode.STAFF_NO, "t": Mode.TRANSFER, "s": Mode.CONFIRM_NO_SHOW}


def press(keys: Keys, key: str, board: Board) -> tuple[Keys, Intent | None]:
    """One key: the keyboard's next state and what (if anything) the clerk asked for."""
    if keys.mode is Mode.KEYS:
        return _single(key)
    if key == ESCAPE:
        return Keys(hint="cancelled"), None
    if keys.mode is Mode.CONFIRM_NO_SHOW:
        return (Keys(), Act(ClerkAction.NO_SHOW)) if key in ("y", "Y") else \
            (Keys(hint="no-show cancelled"), None)
    if key == BACKSPACE:
        return replace(keys, typed=keys.typed[:-1]), None
    if key == ENTER:
        return _submit(keys, board)
    return _type(keys, key), None


def _single(key: str) -> tuple[Keys, Intent | None]:
    lowered = key.lower()
    if lowered in _SINGLE:
        return Keys(), _SINGLE[lowered]
    if lowered in _PROMPTS:
        return Keys(mode=_PROMPTS[lowered]), None
    if key in (ENTER, BACKSPACE, ESCAPE):
        return Keys(), None
    return Keys(hint=f"no key {key!r}; the keys are listed below"), None


def _type(keys: Keys, key: str) -> Keys:
    if len(key) != 1 or not key.isprintable():
        return keys
    if keys.mode is Mode.PIN:
        return replace(keys, typed=keys.typed + key) if key.isdigit() and \
            len(keys.typed) < MAX_PIN else keys
    return replace(keys, typed=keys.typed + key) if len(keys.typed) < MAX_TYPED else keys


def _submit(keys: Keys, board: Board) -> tuple[Keys, Intent | None]:
    typed = keys.typed.strip()
    if keys.mode is Mode.STAFF_NO:
        if not typed:
            return Keys(hint="sign-in cancelled: no staff number"), None
        return Keys(mode=Mode.PIN, staff_no=typed.upper()), None
    if keys.mode is Mode.PIN:
        return Keys(), SignIn(keys.staff_no, typed)
    target = transfer_target(typed, board.hall)
    if isinstance(target, str):
        return Keys(hint=target), None
    return Keys(), target


def transfer_target(typed: str, hall: m.HallState | None) -> Transfer | str:
    """What a typed transfer target means (service letter or counter id), or why it is unknown."""
    if not typed:
        return Transfer(None, None)
    if hall is None:
        return Transfer(typed.upper(), None) if len(typed) == 1 and typed.isalpha() \
            else Transfer(None, typed)
    if typed.upper() in {s.id for s in hall.services}:
        return Transfer(typed.upper(), None)
    if typed in {c.id for c in hall.counters}:
        return Transfer(None, typed)
    return f"no service or counter {typed!r} in this hall"


# ---------------------------------------------------------------- the screen
def render(board: Board, keys: Keys) -> list[str]:
    """The screen's lines: the counter, the queues, the keys, then the prompt or message."""
    lines = [_title(board), "", *_counter_lines(board), "", *_queue_lines(board), ""]
    lines += [*KEY_HELP, "", _bottom(board, keys)]
    return lines


def _title(board: Board) -> str:
    hall = board.hall
    window = next((c.name for c in hall.counters if c.id == board.counter), "") if hall else ""
    name = hall.name if hall else "…"
    return f"{name} · {window or 'counter ' + board.counter} · {LIGHTS_TEXT[board.lights]}"


def _counter_lines(board: Board) -> list[str]:
    state = board.state
    if state is None:
        return ["状态 status: waiting for the hall controller…"]
    if state.number:
        ticket_status = state.ticket_status.value if state.ticket_status else ""
        since = f" since {state.since:%H:%M}" if state.since else ""
        ticket = f"{state.number} ({ticket_status}{since}, recalls {state.recalls})"
    else:
        ticket = "—"
    clerk = f"{state.clerk.name} {state.clerk.staff_no}" if state.clerk else "未签到 not signed in"
    rating = f"awaiting a rating for {number_of(board.armed_for)}" if board.armed_for else "—"
    return [f"窗口 counter: {state.status.value}",
            f"当前 ticket:  {ticket}",
            f"办事员 clerk: {clerk}",
            f"评价 rating:  {rating}"]


def _queue_lines(board: Board) -> list[str]:
    hall, services = board.hall, board.services or {}
    if hall is None:
        return ["等候 waiting: …"]
    serves = set(board.state.services) if board.state else set()
    lines = ["等候 waiting:"]
    for service in hall.services:
        ours = "*" in serves or service.id in serves
        waiting = services[service.id].waiting if service.id in services else "?"
        lines.append(f" {'►' if ours else ' '} {service.id} {waiting!s:>3}  {service.name}")
    return lines


def _bottom(board: Board, keys: Keys) -> str:
    if keys.mode is Mode.STAFF_NO:
        return f"签到 sign in — 工号 staff no: {keys.typed}_  (Enter, Esc cancels)"
    if keys.mode is Mode.PIN:
        return f"签到 sign in — {keys.staff_no} 密码 PIN: {'*' * len(keys.typed)}_  (Enter)"
    if keys.mode is Mode.TRANSFER:
        return (f"转移 transfer to (service letter or window id; Enter alone: back to its "
                f"queue): {keys.typed}_")
    if keys.mode is Mode.CONFIRM_NO_SHOW:
        number = board.state.number if board.state and board.state.number else "the ticket"
        return f"过号 no-show {number}? y = yes, any other key = no"
    return f"> {keys.hint or board.message}"


def decode_keys(data: bytes) -> list[str]:
    """Split bytes read from a terminal into keys: characters, ENTER, BACKSPACE, ESCAPE.

    Escape sequences (arrow and function keys) are dropped; a lone ESC is ESCAPE.
    """
    text = data.decode("utf-8", "ignore")
    keys: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == ESCAPE and i + 1 < len(text) and text[i + 1] in "[O":
            i += 2
            while i < len(text) and not ("@" <= text[i] <= "~"):
                i += 1
        elif char in "\r\n":
            keys.append(ENTER)
            if text[i:i + 2] == "\r\n":
                i += 1
        elif char in "\x7f\b":
            keys.append(BACKSPACE)
        else:
            keys.append(char)
        i += 1
    return keys
