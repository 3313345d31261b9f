"""Hall configs for benchmarks: the example hall grown to many counters, open all day."""

from __future__ import annotations

from pathlib import Path

from demo.hallfiles import EXAMPLE_HALL

PIN_HASH_1234 = ("pbkdf2_sha256$100000$0101010101010101$5cd8816bf46ac3fe6a05ca0273034299b28"
                 "46d12b448ff3f428c93a9bba68376")  # examples/hall.toml's: every PIN is 1234


def big_hall(directory: Path, counters: int) -> Path:
    """examples/hall.toml with ``counters`` windows (one in four a specialist for A and B),
    a caller per window and a clerk for each (staff numbers S001..., PIN 1234), no quotas.
    Returns the new file's path."""
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
    blocks += [f'[[clerks]]\nstaff_no = "S{n:03d}"\nname = "职员{n}"\n'
               f'pin_hash = "{PIN_HASH_1234}"\n' for n in range(1, counters + 1)]
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "big-hall.toml"
    path.write_text("\n".join(blocks), encoding="utf-8")
    return path
