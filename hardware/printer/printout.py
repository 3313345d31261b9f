"""What a queue ticket shows: hall, number, service, place in the queue, time, QR link."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime

from hardware.printer.errors import BadPrintout

DEFAULT_FOOTER: tuple[str, ...] = (
    "过号请重新取号",
    "If you miss your call, please take a new ticket",
    "请留意叫号及屏幕提示",
    "Please listen for your number and watch the screens",
)

_NUMBER = re.compile(r"^[A-Z]\d{3,4}$")


@dataclass(frozen=True, slots=True)
class TicketPrintout:
    """Everything printed on one ticket; it carries no name, ID number or other personal data."""

    hall_name: str
    hall_name_en: str
    number: str
    service_name: str
    service_name_en: str
    ahead: int
    wait_minutes: float | None  # None: no open window serves this service right now
    issued_at: datetime
    status_url: str
    channel: str | None = None
    channel_en: str | None = None
    footer: tuple[str, ...] = DEFAULT_FOOTER

    def __post_init__(self) -> None:
        """Refuse content that would print a wrong or unreadable ticket."""
        if not _NUMBER.match(self.number):
            raise BadPrintout(f"ticket number {self.number!r} is not a letter and 3-4 digits")
        for field in ("hall_name", "hall_name_en", "service_name", "service_name_en"):
            if not getattr(self, field).strip():
                raise BadPrintout(f"ticket {self.number}: {field} is empty")
        if self.ahead < 0:
            raise BadPrintout(f"ticket {self.number}: ahead is negative ({self.ahead})")
        if self.wait_minutes is not None and (
                not math.isfinite(self.wait_minutes) or self.wait_minutes < 0):
            raise BadPrintout(f"ticket {self.number}: bad wait_minutes {self.wait_minutes!r}")
        if self.issued_at.utcoffset() is None:
            raise BadPrintout(f"ticket {self.number}: issued_at has no time zone")
        if not self.status_url.startswith(("http://", "https://")):
            raise BadPrintout(f"ticket {self.number}: status_url {self.status_url!r} not http(s)")
        if self.channel_en is not None and self.channel is None:
            raise BadPrintout(f"ticket {self.number}: channel_en given without channel")

    @property
    def ahead_lines(self) -> tuple[str, str]:
        """How many are ahead, in Chinese and English."""
        if self.ahead == 0:
            return "前面没有人", "You are next"
        return f"前面还有 {self.ahead} 人", f"{self.ahead} ahead of you"

    @property
    def wait_lines(self) -> tuple[str, str]:
        """The estimated wait, in Chinese and English, rounded to whole minutes."""
        if self.wait_minutes is None:
            return "等候时间待定", "wait to be confirmed"
        minutes = round(self.wait_minutes)
        if minutes < 1:
            return "预计等候不到 1 分钟", "under 1 min"
        return f"预计等候约 {minutes} 分钟", f"about {minutes} min"

    @property
    def issued_text(self) -> str:
        """The issue time as printed, in the time zone it was given in."""
        return self.issued_at.strftime("%Y-%m-%d %H:%M")
