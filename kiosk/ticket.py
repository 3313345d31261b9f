"""The kiosk's ticket: what goes on it for an issued ticket, and a sample to print or inspect.

`python -m kiosk.ticket --sample --out ticket.bin [--png ticket.png] [--width 576|384]` writes
the exact ESC/POS bytes the kiosk would send to the printer for a sample ticket.
"""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from hardware.printer import (
    PAPER_58MM,
    PAPER_80MM,
    BadPrintout,
    TicketPrintout,
    raster_job,
    render_ticket,
)
from protocol.messages import Channel, HallState, TicketView

log = logging.getLogger(__name__)

CHANNEL_LABELS: dict[Channel, tuple[str, str]] = {
    Channel.GREEN: ("绿色通道", "Green channel"),
    Channel.APPOINTMENT: ("预约", "Appointment"),
}


def printout_for(view: TicketView, hall: HallState) -> TicketPrintout:
    """The printout of a freshly issued ticket, with times shown in the hall's time zone."""
    service = next((s for s in hall.services if s.id == view.service), None)
    if service is None:
        raise BadPrintout(f"ticket {view.number}: service {view.service} is not in the hall state")
    missing = [name for name in ("ahead", "token")
               if getattr(view, name) is None]
    if missing:
        raise BadPrintout(f"ticket {view.number}: cannot print without {', '.join(missing)}")
    channel, channel_en = CHANNEL_LABELS.get(view.channel, (None, None))
    return TicketPrintout(
        hall_name=hall.name,
        hall_name_en=hall.name_en,
        number=view.number,
        service_name=service.name,
        service_name_en=service.name_en,
        ahead=view.ahead or 0,
        wait_minutes=view.estimated_wait_min,
        issued_at=view.issued_at.astimezone(ZoneInfo(hall.timezone)),
        status_url=f"{hall.status_url_base}{view.token}",
        channel=channel,
        channel_en=channel_en,
    )


def sample_printout() -> TicketPrintout:
    """A typical green-channel ticket of the example hall."""
    return TicketPrintout(
        hall_name="天平街道社区事务受理服务中心",
        hall_name_en="Tianping Community Affairs Acceptance Centre",
        number="A012",
        service_name="社会保险与就业",
        service_name_en="Social insurance & employment",
        ahead=5,
        wait_minutes=37.4,
        issued_at=datetime(2026, 3, 16, 9, 41, tzinfo=ZoneInfo("Asia/Shanghai")),
        status_url="http://127.0.0.1:8080/t/q7Hc2kLm9XwBf3Ra",
        channel="绿色通道",
        channel_en="Green channel",
    )


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m kiosk.ticket", description="Write the ESC/POS bytes of a sample ticket."
    )
    parser.add_argument("--sample", action="store_true", required=True,
                        help="print the sample ticket (the only ticket this tool makes)")
    parser.add_argument("--out", type=Path, required=True, help="where to write the ESC/POS bytes")
    parser.add_argument("--png", type=Path, help="also write the ticket image here")
    parser.add_argument("--width", type=int, choices=(PAPER_80MM, PAPER_58MM), default=PAPER_80MM,
                        help="paper width in dots: 576 for 80 mm paper, 384 for 58 mm")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Write the sample ticket's ESC/POS bytes (and image); return the exit status."""
    args = _arguments(argv)
    image = render_ticket(sample_printout(), args.width)
    data = raster_job(image)
    try:
        args.out.write_bytes(data)
        if args.png:
            image.save(args.png)
    except OSError as error:
        print(f"cannot write the ticket: {error}", file=sys.stderr)
        return 1
    print(f"wrote {len(data)} bytes to {args.out} ({image.width}x{image.height} dots)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
