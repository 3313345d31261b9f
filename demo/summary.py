"""The demo's live summary: the day's figures, most useful first, and the nearby centres a
kiosk would show. In a terminal it is redrawn in place, wrapped (then abbreviated) to the
terminal's width; otherwise one whole line is printed per minute of hall time."""

from __future__ import annotations

import shutil
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import fmean
from typing import TextIO

from demo.tally import AT_WINDOW, NO_SHOW, NOT_SERVED, SERVED, WAITING, Tally
from kiosk.texts import Language
from kiosk.view import nearby_centres
from protocol import messages as m
from protocol.link import Link
from protocol.topics import parse

MOST_LINES = 3  # wrapped beyond this, the labels are abbreviated
MINUTE = timedelta(minutes=1)
FILL = timedelta(hours=1)  # a pipe's missed minutes are filled in up to this gap


@dataclass(frozen=True, slots=True)
class Figure:
    """One figure of the summary: its full text, and a short one for narrow terminals."""

    full: str
    short: str


def figures(now: datetime, tally: Tally, nearby: str = "", speed: float = 0.0) -> list[Figure]:
    """The summary's figures in order of use: the ticket fates (adding up to issued) first."""
    t = tally.totals
    mean = f"{fmean(t.waits_min):.1f}" if t.waits_min else "-"
    found = [
        Figure(f"{now:%a %H:%M}", f"{now:%H:%M}"),
        Figure(f"waiting {tally.count(WAITING)}", f"wait {tally.count(WAITING)}"),
        Figure(f"at a window {tally.count(AT_WINDOW)}", f"win {tally.count(AT_WINDOW)}"),
        Figure(f"served {tally.count(SERVED)}", f"srv {tally.count(SERVED)}"),
        Figure(f"no-show {tally.count(NO_SHOW)}", f"nsh {tally.count(NO_SHOW)}"),
        Figure(f"not served {tally.count(NOT_SERVED)}", f"nsv {tally.count(NOT_SERVED)}"),
        Figure(f"= issued {t.issued}", f"=iss {t.issued}"),
        Figure(f"at the kiosks {tally.at_kiosk}", f"kiosk {tally.at_kiosk}"),
        Figure(f"refused {sum(t.refused.values())}", f"ref {sum(t.refused.values())}"),
        Figure(f"left {sum(t.left.values())}", f"left {sum(t.left.values())}"),
        Figure(f"mean wait {mean} min", f"mw {mean}'"),
        Figure(f"alerts {sum(tally.alerts.values())}", f"al {sum(tally.alerts.values())}"),
    ]
    if speed:
        found.append(Figure(f"speed {speed:.0f}x", f"{speed:.0f}x"))
    if nearby:
        found.append(Figure(f"附近 {nearby}", f"附近 {nearby}"))
    return found


def whole_line(items: list[Figure]) -> str:
    """The summary on one line, nothing cut (for a pipe or a file)."""
    return "  ".join(item.full for item in items)


def wrapped(items: list[Figure], columns: int) -> list[str]:
    """The figures in as few lines of at most ``columns`` cells as fit, abbreviated when the
    full labels would take more than MOST_LINES lines; a figure wider than a line is cut."""
    lines = _pack([item.full for item in items], columns)
    if len(lines) > MOST_LINES:
        lines = _pack([item.short for item in items], columns)
    return lines


def _pack(texts: list[str], columns: int) -> list[str]:
    lines: list[str] = []
    for text in texts:
        text = fit(text, columns)
        if lines and cells(lines[-1]) + 2 + cells(text) <= columns:
            lines[-1] += "  " + text
        else:
            lines.append(text)
    return lines


def cells(text: str) -> int:
    """Terminal cells ``text`` takes (a Chinese character takes two)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def fit(text: str, columns: int) -> str:
    """``text`` cut to ``columns`` terminal cells."""
    used = 0
    for index, char in enumerate(text):
        used += 2 if unicodedata.east_asian_width(char) in "WF" else 1
        if used > columns:
            return text[:index]
    return text


class Output:
    """Where the summary goes. On a terminal the figures are redrawn in place (ANSI: up a
    line, clear to the end), wrapped to its width; elsewhere one whole line is printed per
    minute of hall time. Notes are whole lines either way."""

    def __init__(self, out: TextIO, columns: Callable[[], int] | None = None) -> None:
        self.out = out
        self.tty = out.isatty()
        self.columns = columns or (lambda: shutil.get_terminal_size().columns)
        self.redraw_s = 0.25 if self.tty else 1.0  # real seconds between redraws at most
        self.shown = 0  # live lines on the terminal
        self.minute: datetime | None = None

    def clear(self) -> None:
        """Take the live lines off the terminal (they come back at the next update)."""
        self._clear()
        self.out.flush()

    def note(self, text: str) -> None:
        self._clear()
        self.out.write(text + "\n")
        self.out.flush()

    def due(self, now: datetime) -> list[datetime]:
        """The moments to show: now in a terminal; in a pipe, each minute of hall time since
        the last line (a busy machine may wake the summary late), or none."""
        minute = now.replace(second=0, microsecond=0)
        if self.tty or self.minute is None or not self.minute < minute <= self.minute + FILL:
            return [now] if self.tty or minute != self.minute else []
        count = int((minute - self.minute) / MINUTE)
        return [self.minute + MINUTE * n for n in range(1, count)] + [now]

    def new_day(self) -> None:
        """The next line starts the day (the minutes of the night are not filled in)."""
        self.minute = None

    def update(self, now: datetime, items: list[Figure]) -> None:
        if self.tty:
            self._clear()
            lines = wrapped(items, max(20, self.columns() - 1))
            self.out.write("\n".join(lines))
            self.shown = len(lines)
        else:
            minute = now.replace(second=0, microsecond=0)
            if minute == self.minute:
                return
            self.minute = minute
            self.out.write(whole_line(items) + "\n")
        self.out.flush()

    def close(self) -> None:
        if self.shown:
            self.out.write("\n")
            self.out.flush()
            self.shown = 0

    def _clear(self) -> None:
        if self.shown:
            up = f"\x1b[{self.shown - 1}F" if self.shown > 1 else ""
            self.out.write(f"{up}\r\x1b[J")
            self.shown = 0


def nearby_text(kiosk: Link, now: datetime) -> str:
    """The nearby centres on a kiosk's idle screen at ``now`` (its clock), in one line."""
    summaries = {}
    for topic, message in kiosk.state.items():
        centre = parse(topic).nearby
        if centre and isinstance(message, m.HallSummary):
            summaries[centre] = message
    return " · ".join(f"{c.name} {c.wait}" for c in nearby_centres(summaries, now, Language.ZH))
