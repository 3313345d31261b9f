"""The default voice pack, generated with espeak-ng, and the voice built on it.

Every clip is synthesised, trimmed of silence, levelled, resampled and faded at its ends;
the chime is synthesised in Python. The display builds the pack lazily on first start
(``open_voice``); ``python -m voice.build_pack`` builds it by hand.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from voice.audio import Audio, chime, fade, normalise, read_wav, resample, trim, write_wav
from voice.errors import PackError, SynthesisError
from voice.kiosk_words import KIOSK_TEXTS
from voice.pack import (
    ALL_KEYS,
    DEFAULT_PACK_DIR,
    LETTERS,
    PackManifest,
    VoicePack,
    is_complete,
    load_pack,
    write_manifest,
)

log = logging.getLogger(__name__)

# espeak-ng 1.51's plain "cmn" voice reads 请, 号, 一, 零 ... as pinyin with the tone digit
# spoken in English ("qing three"); the pinyin variant of the voice says them correctly.
MANDARIN_VOICE = "cmn-latn-pinyin"
ENGLISH_VOICE = "en"
WORDS_PER_MINUTE = 165
DEFAULT_RATE = 22050

CHINESE_DIGITS = "零一二三四五六七八九"
ENGLISH_DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
ENGLISH_TEENS = (
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
)
ENGLISH_TENS = ("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")


def clip_texts() -> dict[str, tuple[str, str]]:
    """What espeak-ng says for each spoken clip key: key -> (voice, text)."""
    cmn: dict[str, str] = {
        "qing": "请",
        **{f"letter_{c}": c for c in LETTERS},
        **{f"digit_{d}": ch for d, ch in enumerate(CHINESE_DIGITS)},
        "num_shi": "十",
        "hao_dao": "号到",
        "hao_chuangkou_banli": "号窗口办理",
        **KIOSK_TEXTS,
    }
    en: dict[str, str] = {
        "en_number": "Number",
        "en_please_go_to_window": "please go to window",
        **{f"en_letter_{c}": c for c in LETTERS},
        **{f"en_digit_{d}": word for d, word in enumerate(ENGLISH_DIGITS)},
        **{f"en_num_{10 + i}": word for i, word in enumerate(ENGLISH_TEENS)},
        **{f"en_num_{20 + 10 * i}": word for i, word in enumerate(ENGLISH_TENS)},
    }
    texts = {key: (MANDARIN_VOICE, text) for key, text in cmn.items()}
    texts.update({key: (ENGLISH_VOICE, text) for key, text in en.items()})
    return texts


def espeak_version() -> str:
    """The installed espeak-ng's version line, e.g. 'espeak-ng 1.51'."""
    out = _espeak(["--version"]).stdout.decode("utf-8", "replace")
    parts = out.split()
    return f"espeak-ng {parts[3]}" if len(parts) > 3 else "espeak-ng"


def _espeak(args: list[str]) -> subprocess.CompletedProcess[bytes]:
    try:
        done = subprocess.run(["espeak-ng", *args], capture_output=True, timeout=30, check=False)
    except FileNotFoundError as exc:
        raise SynthesisError("espeak-ng not found: install the Debian package espeak-ng") from exc
    except subprocess.TimeoutExpired as exc:
        raise SynthesisError(f"espeak-ng {args} did not finish in 30 s") from exc
    if done.returncode != 0:
        err = done.stderr.decode("utf-8", "replace").strip()
        raise SynthesisError(f"espeak-ng {args} failed ({done.returncode}): {err}")
    return done


def synthesise(voice: str, text: str, path: Path) -> Audio:
    """Raw espeak-ng speech for ``text`` (written to ``path`` on the way), as it comes out."""
    _espeak(["-v", voice, "-s", str(WORDS_PER_MINUTE), "-w", str(path), text])
    return read_wav(path)


def make_clip(key: str, rate: int, workdir: Path) -> Audio:
    """Synthesise one spoken clip: trimmed, levelled, at ``rate``, with faded ends."""
    voice, text = clip_texts()[key]
    clip = trim(synthesise(voice, text, workdir / f"{key}.wav"))
    if not clip.samples:
        raise SynthesisError(f"espeak-ng said nothing audible for {key} ({text!r})")
    return fade(resample(normalise(clip), rate))


def _publish(staging: Path, out: Path) -> None:
    if out.exists():
        shutil.rmtree(out)
    try:
        staging.rename(out)
    except OSError:
        if not is_complete(out):
            raise
        log.info("voice pack %s was built meanwhile by another process", out)


def build_pack(out: Path, rate: int = DEFAULT_RATE, name: str = "default") -> PackManifest:
    """Synthesise every clip into ``out`` (replaced whole, so readers never see half a pack)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.building-", dir=out.parent))
    try:
        keys = list(clip_texts())
        with tempfile.TemporaryDirectory() as workdir, ThreadPoolExecutor(4) as pool:
            clips = pool.map(make_clip, keys, [rate] * len(keys), [Path(workdir)] * len(keys))
            for key, clip in zip(keys, clips, strict=True):
                write_wav(clip, staging / f"{key}.wav")
        write_wav(chime(rate), staging / "chime.wav")
        manifest = PackManifest(
            name=name,
            languages=["cmn", "en"],
            sample_rate=rate,
            clips=list(ALL_KEYS),
            generator=espeak_version(),
        )
        write_manifest(staging, manifest)
        _publish(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return manifest


def ensure_default_pack(directory: Path = DEFAULT_PACK_DIR) -> Path:
    """Build the default pack into ``directory`` unless a complete one is already there."""
    if not is_complete(directory):
        log.info("voice pack %s is missing or incomplete: building it with espeak-ng", directory)
        started = time.monotonic()
        build_pack(directory)
        log.info("built voice pack %s in %.1f s", directory, time.monotonic() - started)
    return directory


def open_voice(hall_pack: Path | None = None, default_dir: Path = DEFAULT_PACK_DIR) -> VoicePack:
    """The voice: the hall's pack (argument, then LOBBY_VOICEPACK) over the default."""
    default = load_pack(ensure_default_pack(default_dir))
    if hall_pack is None and os.environ.get("LOBBY_VOICEPACK"):
        hall_pack = Path(os.environ["LOBBY_VOICEPACK"])
    if hall_pack is None:
        return default
    try:
        return load_pack(hall_pack).over(default)
    except PackError as exc:
        log.error("hall voice pack unusable, speaking with the default pack only: %s", exc)
        return default
