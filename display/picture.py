"""What each screen shows, as plain text and flags: built from the model, drawn by the screens.

Pure, so every word a resident reads on a display can be tested without Kivy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from display.model import DisplayModel, counter_order
from protocol import messages as m

WEEKDAYS = "一二三四五六日"
RECENT_ROWS = 8
IDLE_WELCOME = "欢迎光临"
PAUSED = "暂停服务"


@dataclass(frozen=True, slots=True)
class CallLine:
    """One call as a line on the wall: 'A012' to '3号窗口'."""

    seq: int
    number: str
    window: str
    window_en: str
    time: str
    recall: bool


@dataclass(frozen=True, slots=True)
class ServiceLine:
    """One row of the waiting table."""

    id: str
    name: str
    waiting: str
    wait: str
    open: bool


@dataclass(frozen=True, slots=True)
class CounterTile:
    """One window's tile on the lobby wall; ``state`` picks its colour."""

    id: str
    name: str
    state: str  # called, serving, idle, paused, closed
    text: str


@dataclass(frozen=True, slots=True)
class Header:
    """The hall's name, today's date and the service hours."""

    name: str
    name_en: str
    date: str
    clock: str
    hours: str


@dataclass(frozen=True, slots=True)
class LobbyPicture:
    """Everything the lobby wall shows at one moment."""

    header: Header
    current: CallLine | None
    sentence: str
    sentence_en: str
    flash: bool
    recent: tuple[CallLine, ...]
    services: tuple[ServiceLine, ...]
    counters: tuple[CounterTile, ...]
    waiting_total: int
    notice: str
    offline: bool


@dataclass(frozen=True, slots=True)
class CounterPicture:
    """Everything the small screen above one window shows."""

    name: str
    name_en: str
    state: str  # called, serving, idle, paused, closed, unknown
    headline: str
    number: str
    caption: str
    clerk: str
    services: str
    flash: bool
    offline: bool


# ---------------------------------------------------------------- header
def date_text(now: datetime) -> str:
    """'2026年5月11日 星期一'."""
    return f"{now.year}年{now.month}月{now.day}日 星期{WEEKDAYS[now.weekday()]}"


def clock_text(now: datetime) -> str:
    """'10:24:36'."""
    return f"{now:%H:%M:%S}"


def hours_text(hall: m.HallState | None) -> str:
    """Today's service hours, or that the hall is closed today."""
    if hall is None:
        return ""
    if hall.open_at is None or hall.close_at is None:
        return "今日休息"
    return f"服务时间 {hall.open_at}–{hall.close_at}"


def header(model: DisplayModel, now: datetime) -> Header:
    """The header line of the lobby wall."""
    hall = model.hall
    return Header(
        name=hall.name if hall else "",
        name_en=hall.name_en if hall else "",
        date=date_text(now),
        clock=clock_text(now),
        hours=hours_text(hall),
    )


# ---------------------------------------------------------------- lobby
def call_line(call: m.CallEvent, names_en: dict[str, str]) -> CallLine:
    """One call as the wall lists it."""
    return CallLine(seq=call.seq, number=call.number, window=call.counter_name,
                    window_en=names_en.get(call.counter, call.counter_name),
                    time=f"{call.at:%H:%M}", recall=call.recall)


def call_sentence(line: CallLine | None) -> tuple[str, str]:
    """'请 A012 号 到 3号窗口' and its English, or empty strings when nobody was called."""
    if line is None:
        return "", ""
    return (f"请 {line.number} 号 到 {line.window}",
            f"Number {line.number}, please go to {line.window_en}")


def recent_lines(model: DisplayModel, rows: int = RECENT_ROWS) -> tuple[CallLine, ...]:
    """The calls before the current one, a recalled ticket listed once (its newest call)."""
    names_en = model.counter_names_en()
    seen = set()
    lines = []
    for call in model.calls:
        key = (call.number, call.counter)
        if key in seen:
            continue
        seen.add(key)
        lines.append(call_line(call, names_en))
    return tuple(lines[1 : rows + 1])


def wait_text(state: m.ServiceState) -> str:
    """How long a new ticket waits: '约 12 分钟', or why it cannot be had, or '等候时间待定'
    when no window serves the service now (no promise)."""
    if not state.intake_open:
        return "停止取号"
    if state.quota_left == 0:
        return "今日已满"
    if state.estimated_wait_min is None:
        return "等候时间待定"
    if state.waiting == 0:
        return "无需等候"
    return f"约 {max(1, round(state.estimated_wait_min))} 分钟"


def service_lines(model: DisplayModel) -> tuple[ServiceLine, ...]:
    """One row per service of the hall, in the hall's order."""
    infos = model.hall.services if model.hall else []
    rows = []
    for info in infos:
        state = model.services.get(info.id)
        if state is None:
            rows.append(ServiceLine(info.id, info.name, "—", "—", True))
            continue
        open_ = state.intake_open and state.quota_left != 0
        rows.append(ServiceLine(info.id, info.name, f"{state.waiting} 人", wait_text(state), open_))
    return tuple(rows)


def counter_tile(state: m.CounterState) -> CounterTile:
    """A window's tile: its number in hand, or idle, paused or closed."""
    if state.status is m.CounterStatus.CLOSED:
        return CounterTile(state.counter, state.name, "closed", "关闭")
    if state.status is m.CounterStatus.PAUSED:
        return CounterTile(state.counter, state.name, "paused", "暂停")
    if state.number is None:
        return CounterTile(state.counter, state.name, "idle", "空闲")
    called = state.ticket_status is m.TicketStatus.CALLED
    return CounterTile(state.counter, state.name, "called" if called else "serving", state.number)


def counter_tiles(model: DisplayModel) -> tuple[CounterTile, ...]:
    """Every window, in window order."""
    ids = sorted(model.counters, key=counter_order)
    return tuple(counter_tile(model.counters[c]) for c in ids)


def lobby_picture(model: DisplayModel, now: datetime, mono: float) -> LobbyPicture:
    """The lobby wall at wall-clock ``now`` (hall zone) and monotonic time ``mono``."""
    names_en = model.counter_names_en()
    current = call_line(model.current, names_en) if model.current else None
    sentence, sentence_en = call_sentence(current)
    return LobbyPicture(
        header=header(model, now),
        current=current,
        sentence=sentence,
        sentence_en=sentence_en,
        flash=model.flash_on(mono),
        recent=recent_lines(model),
        services=service_lines(model),
        counters=counter_tiles(model),
        waiting_total=sum(s.waiting for s in model.services.values()),
        notice=model.hall.notice if model.hall else "",
        offline=model.offline,
    )


# ---------------------------------------------------------------- counter
def services_text(model: DisplayModel, state: m.CounterState) -> str:
    """'综合窗口 · 受理全部事项', or the names of the items this window serves."""
    if "*" in state.services:
        return "综合窗口 · 受理全部事项"
    names = {s.id: s.name for s in model.hall.services} if model.hall else {}
    return " · ".join(names.get(s, s) for s in state.services)


def clerk_text(state: m.CounterState) -> str:
    """The clerk shows who they are (亮出身份): name and staff number."""
    if state.clerk is None:
        return ""
    return f"工作人员 {state.clerk.name}   工号 {state.clerk.staff_no}"


def counter_picture(model: DisplayModel, counter: str, mono: float) -> CounterPicture:
    """The small screen above ``counter``."""
    state = model.counters.get(counter)
    name_en = model.counter_names_en().get(counter, "")
    if state is None:
        return CounterPicture(f"{counter}号窗口", name_en, "unknown", "", "", "", "", "",
                              False, model.offline)
    current = model.current
    fresh = current is not None and current.counter == counter and model.flash_on(mono)
    state_name, headline, number, caption = _counter_face(state)
    return CounterPicture(
        name=state.name, name_en=name_en, state=state_name, headline=headline, number=number,
        caption=caption, clerk=clerk_text(state), services=services_text(model, state),
        flash=fresh and state_name == "called", offline=model.offline)


def _counter_face(state: m.CounterState) -> tuple[str, str, str, str]:
    """(state, headline, big number, caption) of a window."""
    if state.status is m.CounterStatus.CLOSED:
        return "closed", PAUSED, "", "本窗口未开放 · 请到其他窗口办理"
    if state.status is m.CounterStatus.PAUSED:
        return "paused", PAUSED, "", "请到其他窗口办理 · 请稍候"
    if state.number is None:
        return "idle", IDLE_WELCOME, "", "请留意叫号"
    if state.ticket_status is m.TicketStatus.CALLED:
        return "called", "请", state.number, "号 到本窗口办理"
    return "serving", "正在办理", state.number, "号"
