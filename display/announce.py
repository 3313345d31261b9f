"""Write one call's announcement to a WAV file: ``python -m display.announce A012 3 --wav F``.

For a hall technician checking a voice pack, or a recorded clip dropped into one; the
default pack is built with espeak-ng first if it is missing.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from display.voice.phrase import announcement_clips, render_announcement
from voice.audio import write_wav
from voice.default_pack import ensure_default_pack
from voice.errors import UnspeakableError, VoiceError
from voice.pack import DEFAULT_PACK_DIR, load_pack


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m display.announce", description=__doc__.splitlines()[0]
    )
    parser.add_argument("number", help="ticket number, e.g. A012")
    parser.add_argument("window", help="window id, e.g. 3 or 12")
    parser.add_argument("--wav", type=Path, required=True, help="WAV file to write")
    parser.add_argument("--english", action="store_true", help="add the English sentence")
    parser.add_argument("--repeat", type=int, default=2, help="times to say it (default 2)")
    parser.add_argument("--pack", type=Path, help="hall pack whose clips override the default")
    parser.add_argument(
        "--default-pack",
        type=Path,
        default=DEFAULT_PACK_DIR,
        help=f"default pack, built here if missing (default {DEFAULT_PACK_DIR})",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Render the announcement; print its length and clips, or a clear error."""
    args = _arguments(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        clips = announcement_clips(args.number, args.window, args.english, args.repeat)
        pack = load_pack(ensure_default_pack(args.default_pack))
        if args.pack is not None:
            pack = load_pack(args.pack).over(pack)
        audio = render_announcement(pack, args.number, args.window, args.english, args.repeat)
        write_wav(audio, args.wav)
    except UnspeakableError as exc:
        print(f"announce: {exc}", file=sys.stderr)
        return 2
    except (VoiceError, OSError) as exc:
        print(f"announce: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {args.wav}: {audio.duration:.2f} s at {audio.rate} Hz, {len(clips)} clips")
    print(" ".join(clips))
    return 0


if __name__ == "__main__":
    sys.exit(main())
