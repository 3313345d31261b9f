"""Hall configs for benchmarks: the example hall grown to many counters, open all day."""

from __future__ import annotations

from pathlib import Path

from demo.hallfiles import EXAMPLE_HALL


def big_hall(directory: Path, counters: int) -> Path:
    """examples/hall.toml with ``counters`` windows (one in four a specialist for A and B),
    a caller per window, no quotas. Returns the new file's path."""
    text = EXAMPLE_HALL.read_text(encoding="utf-8")
    head = text[:text.index("[[counters]]")]
    head = "\n".join(line for line in head.splitlines() if not line.startswith("daily_quota"))
    blocks = [head]
    for n in range(1, counters + 1):
        services = '["A", "B"]' if n % 4 == 0 else '["*"]'
        blocks.append(f'[[counters]]\nid = "{n}"\nname = "{n}号窗口"\nname_en = "Window {n}"\n'
                      f"services = {services}\n")
    devices: list[tuple[str, str, str | None]] = [
        ("kiosk-1", "kiosk", None), ("kiosk-2", "kiosk", None),
        ("display-lobby", "display", None), ("manager", "manager", None)]
    devices += [(f"caller-{n}", "caller", str(n)) for n in range(1, counters + 1)]
    for device, role, counter in devices:
        block = f'[[devices]]\nid = "{device}"\nrole = "{role}"\n'
        blocks.append(block + (f'counter = "{counter}"\n' if counter else ""))
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "big-hall.toml"
    path.write_text("\n".join(blocks), encoding="utf-8")
    return path
