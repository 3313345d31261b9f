"""Build a voice pack with espeak-ng: ``python -m voice.build_pack --out DIR``."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

from voice.default_pack import DEFAULT_RATE, build_pack
from voice.errors import VoiceError
from voice.pack import DEFAULT_PACK_DIR


def main(argv: list[str] | None = None) -> int:
    """Command line: build a pack and report where and how long it took."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_PACK_DIR, help="pack directory")
    parser.add_argument("--rate", type=int, default=DEFAULT_RATE, help="sample rate in Hz")
    parser.add_argument("--name", default="default", help="pack name for pack.toml")
    args = parser.parse_args(argv)
    if not 8000 <= args.rate <= 48000:
        parser.error(f"--rate {args.rate}: choose a rate from 8000 to 48000 Hz")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    started = time.monotonic()
    try:
        manifest = build_pack(args.out, args.rate, args.name)
    except (VoiceError, OSError) as exc:
        print(f"build_pack: {exc}", file=sys.stderr)
        return 1
    took = time.monotonic() - started
    print(f"{len(manifest.clips)} clips at {manifest.sample_rate} Hz in {args.out} ({took:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
