"""`python -m kiosk.ticket` as a real subprocess, and the printout of an issued ticket."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image

from hardware.printer import BadPrintout, decode_escpos
from kiosk.ticket import printout_for, sample_printout
from protocol.messages import Channel, HallState, ServiceInfo, TicketStatus, TicketView

REPO = Path(__file__).resolve().parents[2]


def run_tool(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kiosk.ticket", *arguments],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )


def zbar(path: Path) -> list[str]:
    done = subprocess.run(
        ["zbarimg", "--quiet", "--raw", str(path)], capture_output=True, text=True, timeout=30
    )
    return done.stdout.splitlines()


@pytest.mark.parametrize("width", ["576", "384"])
def test_sample_bytes_decode_to_the_written_image(tmp_path: Path, width: str) -> None:
    out, png = tmp_path / "ticket.bin", tmp_path / "ticket.png"
    done = run_tool("--sample", "--out", str(out), "--png", str(png), "--width", width)
    assert done.returncode == 0, done.stderr
    assert f"wrote {out.stat().st_size} bytes" in done.stdout
    printed = decode_escpos(out.read_bytes())
    assert printed.cut and len(printed.images) == 1
    with Image.open(png) as written:
        assert written.width == int(width)
        assert written.convert("L").tobytes() == printed.images[0].convert("L").tobytes()
    printed.images[0].save(tmp_path / "decoded.png")
    assert zbar(tmp_path / "decoded.png") == [sample_printout().status_url]


def test_bad_width_is_refused_by_name(tmp_path: Path) -> None:
    done = run_tool("--sample", "--out", str(tmp_path / "t.bin"), "--width", "500")
    assert done.returncode == 2
    assert "--width" in done.stderr and "500" in done.stderr


def test_unwritable_output_is_a_clear_error(tmp_path: Path) -> None:
    done = run_tool("--sample", "--out", str(tmp_path / "missing" / "t.bin"))
    assert done.returncode == 1
    assert "cannot write the ticket" in done.stderr


HALL = HallState(
    hall="tianping", name="天平街道社区事务受理服务中心",
    name_en="Tianping Community Affairs Acceptance Centre", timezone="Asia/Shanghai",
    date="2026-03-16", open_at="08:30", close_at="16:30", notice="", green_age=70,
    services=[ServiceInfo(id="B", name="医疗保险", name_en="Medical insurance",
                          daily_quota=200, last_ticket="16:00")],
    counters=[], status_url_base="http://127.0.0.1:8080/t/",
)


def issued(**changes: object) -> TicketView:
    fields: dict[str, object] = {
        "ticket": "20260316-B021", "number": "B021", "service": "B",
        "status": TicketStatus.PENDING_PRINT, "channel": Channel.GREEN,
        "issued_at": datetime(2026, 3, 16, 1, 15, tzinfo=UTC), "ahead": 3,
        "estimated_wait_min": 21.0, "token": "Yt5rW2qa",
    }
    return TicketView.model_validate({**fields, **changes})


def test_issued_ticket_becomes_a_printout_in_hall_time() -> None:
    printout = printout_for(issued(), HALL)
    assert printout.number == "B021"
    assert (printout.service_name, printout.service_name_en) == ("医疗保险", "Medical insurance")
    assert (printout.channel, printout.channel_en) == ("绿色通道", "Green channel")
    assert printout.issued_text == "2026-03-16 09:15"
    assert printout.status_url == "http://127.0.0.1:8080/t/Yt5rW2qa"
    assert printout_for(issued(channel=Channel.NORMAL), HALL).channel is None


def test_issued_ticket_without_what_the_ticket_shows_is_refused() -> None:
    with pytest.raises(BadPrintout, match="cannot print without ahead, token"):
        printout_for(issued(ahead=None, token=None), HALL)
    with pytest.raises(BadPrintout, match="service G is not in the hall state"):
        printout_for(issued(service="G"), HALL)


def test_a_ticket_with_no_estimate_says_the_wait_is_to_be_confirmed() -> None:
    printout = printout_for(issued(estimated_wait_min=None), HALL)
    assert printout.wait_lines == ("等候时间待定", "wait to be confirmed")
