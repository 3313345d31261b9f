"""Memory of child processes, from /proc: resident set now and at its peak (VmHWM)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path


def memory(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM (MB) of a process, and the largest VmHWM among its descendants."""
    own = _status(pid)
    kids = [_status(child) for child in _children(pid)]
    return {"rss_mb": own.get("VmRSS", 0.0), "peak_mb": own.get("VmHWM", 0.0),
            "children_peak_mb": max((k.get("VmHWM", 0.0) for k in kids), default=0.0)}


def _status(pid: int) -> dict[str, float]:
    try:
        text = Path(f"/proc/{pid}/status").read_text(encoding="utf-8")
    except OSError:
        return {}
    found = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = round(int(value.split()[0]) / 1024, 1)
    return found


def _children(pid: int) -> Iterator[int]:
    """Descendants of ``pid``, from /proc (threads' children lists)."""
    with suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text(encoding="utf-8").split():
                yield int(child)
                yield from _children(int(child))


@dataclass
class Memory:
    """The largest figures seen for each child, sampled while the benchmark runs."""

    seen: dict[str, dict[str, float]] = field(default_factory=dict)

    def sample(self, pids: dict[str, int]) -> None:
        """Sample each named process; keep the largest figures and the latest RSS."""
        for name, pid in pids.items():
            now = memory(pid)
            kept = self.seen.setdefault(name, {})
            for key, value in now.items():
                kept[key] = max(kept.get(key, 0.0), value)
            kept["rss_end_mb"] = now["rss_mb"]
