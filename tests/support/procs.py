"""What /proc says of a process."""

from __future__ import annotations

import signal
from pathlib import Path


def ignored(pid: int) -> set[signal.Signals]:
    """The signals process ``pid`` ignores, from its SigIgn mask."""
    status = Path(f"/proc/{pid}/status").read_text()
    mask = int(next(line.split()[1] for line in status.splitlines()
                    if line.startswith("SigIgn:")), 16)
    return {s for s in signal.Signals if mask >> (s.value - 1) & 1}
