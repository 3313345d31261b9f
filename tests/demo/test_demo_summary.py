"""The live summary: in a terminal every figure fits its width (wrapped, then abbreviated);
in a pipe one whole line per minute of hall time."""

from __future__ import annotations

import io
import logging
import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from demo.__main__ import AboveSummary
from demo.summary import Output, cells, figures, whole_line, wrapped
from demo.tally import Tally

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 3, 10, 17, 30, tzinfo=SHANGHAI)
NEARBY = "徐家汇街道 约 12 分钟 · 湖南路街道 约 9 分钟"
ANSI = re.compile(r"\x1b\[[0-9]*[A-Za-z]")


def busy_tally() -> Tally:
    tally = Tally()
    tally.start_day(date(2026, 12, 3))
    for n in range(1234):
        tally.arrive()
        tally.issue(f"20261203-A{n:04d}", NOW.timestamp())
    return tally


@pytest.mark.parametrize("columns", [40, 60, 80, 100, 120, 160, 240])
def test_every_figure_shows_within_the_terminal_width(columns: int) -> None:
    items = figures(NOW, busy_tally(), NEARBY, 600)
    lines = wrapped(items, columns)
    assert all(cells(line) <= columns for line in lines)
    shown = "  ".join(lines)
    assert "1234" in shown and "600x" in shown
    if columns >= 60:  # the nearby centres fit a line of their own from 60 columns
        assert "徐家汇街道 约 12 分钟" in shown and "湖南路街道 约 9 分钟" in shown
    if columns >= 100:
        assert "waiting 1234" in shown and len(lines) <= 3


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_the_summary_redrawn_in_place_and_notes_above_it() -> None:
    screen = Terminal()
    output = Output(screen, columns=lambda: 100)
    tally = busy_tally()
    output.update(NOW, figures(NOW, tally, NEARBY))
    output.update(NOW, figures(NOW, tally, NEARBY))
    output.note("Day over")
    text = screen.getvalue()
    drawn = wrapped(figures(NOW, tally, NEARBY), 99)
    assert len(drawn) == 3
    assert text.count("\x1b[2F\r\x1b[J") == 2  # back up over the three lines, twice
    assert ANSI.sub("", text).endswith("Day over\n")


def test_a_pipe_gets_one_whole_line_per_minute_of_hall_time() -> None:
    pipe = io.StringIO()
    output = Output(pipe)
    tally = busy_tally()
    for second in range(0, 300, 7):  # five minutes of hall time, looked at every 7 s
        now = NOW + timedelta(seconds=second)
        output.update(now, figures(now, tally, NEARBY))
    lines = pipe.getvalue().split("\n")
    assert lines[-1] == "" and "\r" not in pipe.getvalue() and "\x1b" not in pipe.getvalue()
    minutes = [line[:9] for line in lines[:-1]]
    assert minutes == [f"Thu 10:{m}" for m in range(17, 23)]
    assert all(line == whole_line(figures(NOW, tally, NEARBY)).replace("10:17", line[4:9])
               for line in lines[:-1])
    assert all(line.endswith("湖南路街道 约 9 分钟") for line in lines[:-1])


def test_a_pipe_fills_in_the_minutes_a_busy_machine_made_it_miss() -> None:
    pipe = io.StringIO()
    output = Output(pipe)
    tally = busy_tally()
    for now in (NOW, NOW + timedelta(minutes=4, seconds=5), NOW + timedelta(minutes=4, seconds=9)):
        for at in output.due(now):
            output.update(at, figures(at, tally))
    output.new_day()  # the night is not filled in
    morning = NOW + timedelta(hours=22)
    for at in output.due(morning):
        output.update(at, figures(at, tally))
    shown = [line[:9] for line in pipe.getvalue().splitlines()]
    assert shown == ["Thu 10:17", "Thu 10:18", "Thu 10:19", "Thu 10:20", "Thu 10:21", "Fri 08:17"]


def test_a_log_line_goes_whole_above_the_live_summary(capsys: pytest.CaptureFixture[str],
                                                      ) -> None:
    """Warnings and tracebacks once landed in the middle of the summary line."""
    screen = Terminal()
    output = Output(screen, columns=lambda: 100)
    output.update(NOW, figures(NOW, busy_tally(), NEARBY))
    handler = AboveSummary(output)
    handler.emit(logging.makeLogRecord({"msg": "kiosk-2: print failed", "levelno": 40}))
    assert screen.getvalue().endswith("\x1b[2F\r\x1b[J")  # the live lines taken off first
    assert capsys.readouterr().err == "kiosk-2: print failed\n"
    output.update(NOW, figures(NOW, busy_tally(), NEARBY))  # and drawn again below it
    assert screen.getvalue().endswith("湖南路街道 约 9 分钟")
