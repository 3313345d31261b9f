"""Mono 16-bit audio in plain Python: WAV files, trimming, levels, resampling, the chime.

The display joins recorded clips, so everything here works on ``array('h')`` samples
without numpy: a Raspberry Pi image stays small and the joins stay sample-exact.
"""

from __future__ import annotations

import io
import math
import operator
import sys
import wave
from array import array
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from voice.errors import ClipError

FULL_SCALE = 32767


@dataclass(frozen=True)
class Audio:
    """A mono 16-bit signal: signed samples at ``rate`` samples per second."""

    samples: array[int]
    rate: int

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return len(self.samples) / self.rate

    def __len__(self) -> int:
        return len(self.samples)


def _little_endian(samples: array[int]) -> array[int]:
    if sys.byteorder == "big":
        samples = array("h", samples)
        samples.byteswap()
    return samples


def read_wav(path: Path) -> Audio:
    """Read a 16-bit PCM WAV file, mixing stereo down to mono."""
    try:
        with wave.open(str(path), "rb") as wav:
            width, channels = wav.getsampwidth(), wav.getnchannels()
            rate, frames = wav.getframerate(), wav.readframes(wav.getnframes())
    except (OSError, EOFError, wave.Error) as exc:
        raise ClipError(f"{path}: not a readable WAV file ({exc})") from exc
    if width != 2:
        raise ClipError(f"{path}: {8 * width}-bit samples; clips must be 16-bit PCM")
    if channels not in (1, 2):
        raise ClipError(f"{path}: {channels} channels; clips must be mono or stereo")
    samples = _little_endian(array("h", frames))
    if channels == 2:
        left, right = samples[0::2], samples[1::2]
        samples = array("h", ((a + b) // 2 for a, b in zip(left, right, strict=True)))
    return Audio(samples, rate)


def wav_bytes(audio: Audio) -> bytes:
    """The audio as a complete mono 16-bit WAV file in memory."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(audio.rate)
        wav.writeframes(_little_endian(audio.samples).tobytes())
    return buffer.getvalue()


def write_wav(audio: Audio, path: Path) -> None:
    """Write the audio as a mono 16-bit WAV file."""
    path.write_bytes(wav_bytes(audio))


def silence(seconds: float, rate: int) -> Audio:
    """``seconds`` of digital silence."""
    return Audio(array("h", bytes(2 * round(seconds * rate))), rate)


def join(parts: Iterable[Audio]) -> Audio:
    """Concatenate audio of one rate, sample for sample."""
    parts = list(parts)
    if not parts:
        raise ValueError("nothing to join")
    rate = parts[0].rate
    if any(part.rate != rate for part in parts):
        raise ValueError(f"cannot join audio of rates {sorted({p.rate for p in parts})}")
    samples = array("h")
    for part in parts:
        samples.extend(part.samples)
    return Audio(samples, rate)


def rms(audio: Audio) -> float:
    """Root-mean-square level, 0.0 (silence) to 1.0 (full scale)."""
    if not audio.samples:
        return 0.0
    power = sum(map(operator.mul, audio.samples, audio.samples))
    return math.sqrt(power / len(audio.samples)) / FULL_SCALE


def peak(audio: Audio) -> float:
    """Largest absolute sample, 0.0 to 1.0."""
    if not audio.samples:
        return 0.0
    return max(max(audio.samples), -min(audio.samples)) / FULL_SCALE


def trim(audio: Audio, threshold: float = 0.02, margin: float = 0.015) -> Audio:
    """Cut leading and trailing silence, keeping ``margin`` seconds around the sound."""
    level = threshold * FULL_SCALE
    samples = audio.samples
    first = next((i for i, s in enumerate(samples) if abs(s) > level), None)
    if first is None:
        return Audio(array("h"), audio.rate)
    last = next(i for i in range(len(samples) - 1, -1, -1) if abs(samples[i]) > level)
    pad = round(margin * audio.rate)
    return Audio(samples[max(0, first - pad) : last + 1 + pad], audio.rate)


def _scaled(samples: Iterable[float]) -> array[int]:
    return array("h", [max(-FULL_SCALE, min(FULL_SCALE, round(s))) for s in samples])


def normalise(audio: Audio, level: float = 0.12, ceiling: float = 0.89) -> Audio:
    """Scale to an RMS of ``level`` without letting any peak pass ``ceiling`` (at most 1)."""
    now_rms, now_peak = rms(audio), peak(audio)
    if now_rms == 0.0:
        return audio
    gain = min(level / now_rms, min(ceiling, 1.0) / now_peak)
    return Audio(array("h", [round(s * gain) for s in audio.samples]), audio.rate)


def fade(audio: Audio, seconds: float = 0.006) -> Audio:
    """Ramp both ends to zero over ``seconds`` so joins do not click."""
    n = min(round(seconds * audio.rate), len(audio) // 2)
    samples = array("h", audio.samples)
    for i in range(n):
        gain = i / n
        samples[i] = round(samples[i] * gain)
        samples[-1 - i] = round(samples[-1 - i] * gain)
    return Audio(samples, audio.rate)


def resample(audio: Audio, rate: int) -> Audio:
    """Convert to ``rate`` by linear interpolation (good enough for speech clips)."""
    src = audio.samples
    if rate == audio.rate or len(src) < 2:
        return Audio(array("h", src), rate)
    count = max(2, round(len(src) * rate / audio.rate))
    step = (len(src) - 1) / (count - 1)
    out = []
    for i in range(count):
        pos = i * step
        k = min(int(pos), len(src) - 2)
        out.append(src[k] + (src[k + 1] - src[k]) * (pos - k))
    return Audio(_scaled(out), rate)


def _bell(freq: float, t: float) -> float:
    """One struck tone: a fundamental and a softer octave, fast attack, slow decay."""
    if t < 0:
        return 0.0
    envelope = min(1.0, t / 0.006) * math.exp(-3.2 * t)
    tone = math.sin(2 * math.pi * freq * t) + 0.35 * math.sin(4 * math.pi * freq * t)
    return envelope * tone


def chime(rate: int, high: float = 659.25, low: float = 523.25) -> Audio:
    """A two-tone "ding-dong" (E5 then C5), about 1.3 seconds long."""
    dong_at, length = 0.42, 1.3
    count = round(length * rate)
    raw = [_bell(high, i / rate) + _bell(low, i / rate - dong_at) for i in range(count)]
    tail = round(0.05 * rate)
    for i in range(tail):
        raw[-1 - i] *= i / tail
    top = max(abs(s) for s in raw)
    return Audio(_scaled(s * 0.6 * FULL_SCALE / top for s in raw), rate)
