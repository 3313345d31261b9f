"""The plain-Python audio toolkit: WAV files, trimming, levels, resampling, the chime."""

from __future__ import annotations

import math
import subprocess
import wave
from array import array
from pathlib import Path

import pytest

from voice.audio import (
    Audio,
    chime,
    fade,
    join,
    normalise,
    peak,
    read_wav,
    resample,
    rms,
    silence,
    trim,
    write_wav,
)
from voice.errors import ClipError

RATE = 22050


def tone(seconds: float, freq: float = 440.0, level: float = 0.5, rate: int = RATE) -> Audio:
    """A plain sine, the test's stand-in for a recorded word."""
    count = round(seconds * rate)
    samples = array(
        "h", (round(level * 32767 * math.sin(2 * math.pi * freq * i / rate)) for i in range(count))
    )
    return Audio(samples, rate)


def test_wav_round_trip_is_exact(tmp_path: Path) -> None:
    audio = tone(0.2)
    write_wav(audio, tmp_path / "t.wav")
    assert read_wav(tmp_path / "t.wav") == audio
    with wave.open(str(tmp_path / "t.wav")) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, RATE)


def test_sox_reads_what_we_write(tmp_path: Path) -> None:
    write_wav(tone(0.5), tmp_path / "t.wav")
    stat = subprocess.run(
        ["sox", str(tmp_path / "t.wav"), "-n", "stat"], capture_output=True, text=True, check=True
    ).stderr
    fields = {
        line.split(":")[0].strip(): line.split(":")[1].strip()
        for line in stat.splitlines()
        if ":" in line
    }
    assert float(fields["Length (seconds)"]) == pytest.approx(0.5, abs=0.001)
    assert float(fields["RMS     amplitude"]) == pytest.approx(0.5 / math.sqrt(2), abs=0.01)


def test_stereo_is_mixed_down_to_mono(tmp_path: Path) -> None:
    with wave.open(str(tmp_path / "s.wav"), "wb") as wav:
        wav.setnchannels(2)
        wav.setsampwidth(2)
        wav.setframerate(44100)
        wav.writeframes(array("h", [1000, 3000, -200, -400]).tobytes())
    assert read_wav(tmp_path / "s.wav") == Audio(array("h", [2000, -300]), 44100)


def test_eight_bit_and_garbage_files_are_refused_by_name(tmp_path: Path) -> None:
    with wave.open(str(tmp_path / "b8.wav"), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(1)
        wav.setframerate(8000)
        wav.writeframes(bytes(100))
    with pytest.raises(ClipError, match=r"b8\.wav: 8-bit samples"):
        read_wav(tmp_path / "b8.wav")
    (tmp_path / "junk.wav").write_bytes(b"not a wav")
    with pytest.raises(ClipError, match=r"junk\.wav: not a readable WAV"):
        read_wav(tmp_path / "junk.wav")


def test_trim_cuts_silence_but_keeps_a_margin() -> None:
    word = tone(0.3)
    padded = join([silence(0.5, RATE), word, silence(0.7, RATE)])
    trimmed = trim(padded, margin=0.01)
    assert 0.3 <= trimmed.duration <= 0.3 + 2 * 0.01 + 0.001
    assert rms(trim(silence(1.0, RATE))) == 0.0


def test_normalise_sets_the_level_without_clipping() -> None:
    quiet = tone(0.3, level=0.05)
    assert rms(normalise(quiet, level=0.12)) == pytest.approx(0.12, abs=0.002)
    loud_peaky = join([tone(0.01, level=0.9), silence(0.5, RATE)])
    assert peak(normalise(loud_peaky, level=0.5, ceiling=0.89)) <= 0.89 + 1e-4
    assert normalise(silence(0.1, RATE)) == silence(0.1, RATE)


def test_resample_keeps_duration_and_pitch() -> None:
    a = tone(0.5, freq=441.0, rate=44100)
    b = resample(a, RATE)
    assert b.rate == RATE
    assert b.duration == pytest.approx(0.5, abs=0.001)
    crossings = sum(1 for x, y in zip(b.samples, b.samples[1:], strict=False) if x < 0 <= y)
    assert crossings == pytest.approx(441 * 0.5, abs=2)


def test_fade_brings_both_ends_to_zero() -> None:
    faded = fade(Audio(array("h", [10000] * 1000), RATE), seconds=0.005)
    assert faded.samples[0] == 0 and faded.samples[-1] == 0
    assert faded.samples[500] == 10000


def test_join_is_sample_exact_and_refuses_mixed_rates() -> None:
    a, b = tone(0.1), tone(0.1, freq=880)
    joined = join([a, silence(0.1, RATE), b])
    assert joined.samples[: len(a)] == a.samples
    assert joined.samples[-len(b) :] == b.samples
    assert set(joined.samples[len(a) : len(a) + 2205]) == {0}
    with pytest.raises(ValueError, match="rates"):
        join([a, tone(0.1, rate=16000)])


def test_chime_is_a_two_tone_ding_dong() -> None:
    ding_dong = chime(RATE)
    assert 1.0 <= ding_dong.duration <= 1.5
    assert rms(ding_dong) > 0.05 and peak(ding_dong) <= 0.61
    assert ding_dong.samples[-1] == 0
    first = Audio(ding_dong.samples[: round(0.4 * RATE)], RATE)
    second = Audio(ding_dong.samples[round(0.6 * RATE) : round(0.9 * RATE)], RATE)
    assert dominant(first, [523.25, 659.25]) == 659.25
    assert dominant(second, [523.25, 659.25]) == 523.25


def dominant(audio: Audio, freqs: list[float]) -> float:
    """Which of ``freqs`` is strongest in ``audio`` (a one-bin Fourier sum for each)."""

    def power(f: float) -> float:
        w = 2 * math.pi * f / audio.rate
        re = sum(s * math.cos(w * i) for i, s in enumerate(audio.samples))
        im = sum(s * math.sin(w * i) for i, s in enumerate(audio.samples))
        return re * re + im * im

    return max(freqs, key=power)
