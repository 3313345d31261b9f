"""The demo's live one-line summary."""

from __future__ import annotations

from datetime import datetime
from statistics import fmean

from demo.devices import Tally


def summary_line(now: datetime, tally: Tally, waiting: int) -> str:
    mean_wait = f"{fmean(tally.waits_min):4.1f}" if tally.waits_min else "   -"
    return (f"{now:%a %H:%M}  issued {tally.issued:4d}  waiting {waiting:3d}  "
            f"called {tally.called:4d}  served {tally.served:4d}  no-show {tally.no_shows:3d}  "
            f"mean wait {mean_wait} min ")
