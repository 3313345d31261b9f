"""The demo's live one-line summary, with the nearby centres a kiosk would show."""

from __future__ import annotations

import unicodedata
from datetime import datetime
from statistics import fmean

from demo.devices import Tally
from kiosk.texts import Language
from kiosk.view import nearby_centres
from protocol import messages as m
from protocol.link import Link
from protocol.topics import parse


def summary_line(now: datetime, tally: Tally, waiting: int, nearby: str = "") -> str:
    mean_wait = f"{fmean(tally.waits_min):4.1f}" if tally.waits_min else "   -"
    line = (f"{now:%a %H:%M}  issued {tally.issued:4d}  waiting {waiting:3d}  "
            f"called {tally.called:4d}  served {tally.served:4d}  no-show {tally.no_shows:3d}  "
            f"mean wait {mean_wait} min ")
    return f"{line} 附近 {nearby} " if nearby else line


def nearby_text(kiosk: Link, now: datetime) -> str:
    """The nearby centres on a kiosk's idle screen at ``now`` (its clock), in one line."""
    summaries = {}
    for topic, message in kiosk.state.items():
        centre = parse(topic).nearby
        if centre and isinstance(message, m.HallSummary):
            summaries[centre] = message
    return " · ".join(f"{c.name} {c.wait}" for c in nearby_centres(summaries, now, Language.ZH))


def fit(line: str, columns: int) -> str:
    """``line`` cut to ``columns`` terminal cells (a Chinese character takes two), so that
    rewriting it in place with a carriage return never wraps."""
    used = 0
    for index, char in enumerate(line):
        used += 2 if unicodedata.east_asian_width(char) in "WF" else 1
        if used > columns:
            return line[:index]
    return line
