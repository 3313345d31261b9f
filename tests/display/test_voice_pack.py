"""The espeak-ng default pack, a hall's recorded clips over it, and rendered announcements."""

from __future__ import annotations

import logging
import math
import subprocess
from array import array
from pathlib import Path

import pytest

from display.voice.phrase import PAUSES, announcement_plan, render_announcement
from voice.audio import Audio, read_wav, rms, write_wav
from voice.default_pack import ensure_default_pack, open_voice
from voice.errors import PackError, PackMissingError
from voice.pack import (
    ALL_KEYS,
    CORE_KEYS,
    ENGLISH_KEYS,
    PackManifest,
    VoicePack,
    is_complete,
    load_pack,
    read_manifest,
    write_manifest,
)

PHRASE_CLIPS = {"hao_chuangkou_banli", "en_please_go_to_window"}


def hall_pack(directory: Path, clips: dict[str, Audio], rate: int = 22050) -> Path:
    """A hall's drop-in pack: the given recordings and a pack.toml listing them."""
    directory.mkdir()
    for key, audio in clips.items():
        write_wav(audio, directory / f"{key}.wav")
    manifest = PackManifest(name="hall", languages=["cmn"], sample_rate=rate, clips=list(clips))
    write_manifest(directory, manifest)
    return directory


def recording(seconds: float, freq: float, rate: int = 22050) -> Audio:
    """A stand-in for a clip recorded in the hall: a sine no espeak voice would make."""
    count = round(seconds * rate)
    return Audio(
        array("h", (round(9000 * math.sin(2 * math.pi * freq * i / rate)) for i in range(count))),
        rate,
    )


def sox_stat(path: Path) -> dict[str, float]:
    """What ``sox FILE -n stat`` measures, by field name."""
    out = subprocess.run(
        ["sox", str(path), "-n", "stat"], capture_output=True, text=True, check=True
    ).stderr
    pairs = (line.split(":", 1) for line in out.splitlines() if ":" in line)
    return {name.strip(): float(value) for name, value in pairs}


def test_default_pack_has_every_clip_in_one_format(default_dir: Path) -> None:
    manifest = read_manifest(default_dir)
    assert manifest.clips == list(ALL_KEYS)
    assert manifest.sample_rate == 22050 and manifest.languages == ["cmn", "en"]
    assert manifest.generator is not None and manifest.generator.startswith("espeak-ng")
    assert is_complete(default_dir)
    assert sorted(p.stem for p in default_dir.glob("*.wav")) == sorted(ALL_KEYS)


def test_every_clip_is_spoken_and_short(default_dir: Path) -> None:
    for key in CORE_KEYS + ENGLISH_KEYS:  # the kiosk's phrases: tests/kiosk/test_kiosk_voice*
        stat = sox_stat(default_dir / f"{key}.wav")
        limit = 2.0 if key in PHRASE_CLIPS else 1.5
        assert 0.1 < stat["Length (seconds)"] < limit, key
        assert stat["RMS     amplitude"] > 0.08, key
        assert stat["Maximum amplitude"] < 0.9, key


def test_ensure_default_pack_does_not_rebuild_a_complete_pack(default_dir: Path) -> None:
    before = (default_dir / "qing.wav").stat().st_mtime_ns
    assert ensure_default_pack(default_dir) == default_dir
    assert (default_dir / "qing.wav").stat().st_mtime_ns == before


def expected_layout(pack: VoicePack, plan_keys: list[tuple[str, float]]) -> list[tuple[str, int]]:
    """Where each clip must start in the rendered signal, from clip lengths and pauses."""
    offsets, at = [], 0
    for key, pause in plan_keys:
        offsets.append((key, at))
        at += len(pack.clip(key)) + round(pause * pack.sample_rate)
    return offsets


@pytest.mark.parametrize(
    ("number", "window", "english", "repeat"),
    [
        ("A012", "3", False, 2),
        ("B101", "12", True, 2),
        ("C007", "21", False, 1),
        ("F300", "10", True, 3),
    ],
)
def test_rendered_announcement_is_the_clips_in_order(
    pack: VoicePack, number: str, window: str, english: bool, repeat: int
) -> None:
    audio = render_announcement(pack, number, window, english, repeat)
    plan = [(s.key, s.pause_after) for s in announcement_plan(number, window, english, repeat)]
    layout = expected_layout(pack, plan)
    for (key, start), (_, pause) in zip(layout, plan, strict=True):
        clip = pack.clip(key)
        assert audio.samples[start : start + len(clip)] == clip.samples, key
        gap = audio.samples[start + len(clip) : start + len(clip) + round(pause * audio.rate)]
        assert not any(gap), key
    clips_total = sum(len(pack.clip(key)) for key, _ in plan)
    pauses_total = sum(round(p * audio.rate) for _, p in plan)
    assert len(audio) == clips_total + pauses_total
    assert [key for key, _ in layout].count("qing") == repeat
    assert rms(audio) > 0.05


def test_a012_to_window_3_measured_by_sox(pack: VoicePack, tmp_path: Path) -> None:
    write_wav(render_announcement(pack, "A012", "3"), tmp_path / "a012.wav")
    stat = sox_stat(tmp_path / "a012.wav")
    assert 6.0 < stat["Length (seconds)"] < 14.0
    assert stat["RMS     amplitude"] > 0.05
    assert stat["Maximum amplitude"] < 0.95


def test_recorded_clip_overrides_the_default_and_missing_keys_warn_once(
    pack: VoicePack, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    qing = recording(0.4, 300.0)
    hall = load_pack(hall_pack(tmp_path / "hall", {"qing": qing, "hao_dao": recording(0.5, 350)}))
    with caplog.at_level(logging.WARNING, logger="voice.pack"):
        voice = hall.over(pack)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert f"lacks {len(ALL_KEYS) - 2} clips" in warnings[0].getMessage()
    assert "chime" in warnings[0].getMessage() and " qing" not in warnings[0].getMessage()
    assert voice.clip("qing") == qing
    assert voice.clip("letter_A") == pack.clip("letter_A")
    audio = render_announcement(voice, "A012", "3", repeat=1)
    start = len(pack.clip("chime")) + round(PAUSES.after_chime * 22050)
    assert audio.samples[start : start + len(qing)] == qing.samples
    assert audio != render_announcement(pack, "A012", "3", repeat=1)


def test_hall_clips_at_another_rate_are_resampled(pack: VoicePack, tmp_path: Path) -> None:
    hall = load_pack(hall_pack(tmp_path / "hall", {"qing": recording(0.4, 300.0, 44100)}, 44100))
    voice = hall.over(pack)
    assert voice.sample_rate == 22050
    assert voice.clip("qing").rate == 22050
    assert len(voice.clip("qing")) == pytest.approx(0.4 * 22050, abs=2)


def test_english_clips_fall_back_for_a_mandarin_only_hall_pack(
    pack: VoicePack, tmp_path: Path
) -> None:
    hall = load_pack(hall_pack(tmp_path / "hall", {"qing": recording(0.4, 300.0)}))
    voice = hall.over(pack)
    assert voice.keys == set(ALL_KEYS)
    assert all(voice.clip(key) == pack.clip(key) for key in ENGLISH_KEYS)


def test_broken_hall_packs_get_errors_naming_the_problem(tmp_path: Path) -> None:
    with pytest.raises(PackMissingError, match="no voice pack manifest"):
        load_pack(tmp_path)
    (tmp_path / "pack.toml").write_text(
        'name = "x"\nlanguages = ["cmn"]\nsample_rate = 22050\nclips = ["qing", "hao_daoo"]\n'
    )
    with pytest.raises(PackError, match=r"unknown clip keys \['hao_daoo'\]"):
        load_pack(tmp_path)
    (tmp_path / "pack.toml").write_text(
        'name = "x"\nlanguages = ["cmn"]\nsample_rate = 22050\nclips = ["qing"]\n'
    )
    with pytest.raises(PackError, match=r"lists clips with no file: qing\.wav"):
        load_pack(tmp_path)
    (tmp_path / "pack.toml").write_text('name = "x"\nsample_rate = "fast"\nclips = []\n')
    with pytest.raises(PackError, match="languages"):
        load_pack(tmp_path)
    (tmp_path / "pack.toml").write_text("name = [unclosed")
    with pytest.raises(PackError, match="not valid TOML"):
        load_pack(tmp_path)


def test_open_voice_uses_the_hall_pack_or_falls_back_on_a_broken_one(
    default_dir: Path, pack: VoicePack, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    qing = recording(0.3, 320.0)
    good = hall_pack(tmp_path / "hall", {"qing": qing})
    assert open_voice(good, default_dir).clip("qing") == qing
    with caplog.at_level(logging.ERROR, logger="voice.default_pack"):
        voice = open_voice(tmp_path / "nowhere", default_dir)
    assert voice.clip("qing") == pack.clip("qing")
    assert "hall voice pack unusable" in caplog.text


def test_open_voice_reads_the_hall_pack_from_the_environment(
    default_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    qing = recording(0.3, 330.0)
    monkeypatch.setenv("LOBBY_VOICEPACK", str(hall_pack(tmp_path / "hall", {"qing": qing})))
    assert open_voice(None, default_dir).clip("qing") == qing


def test_missing_clip_in_a_pack_is_a_clear_error() -> None:
    with pytest.raises(PackError, match="voice pack 'tiny' has no clip 'qing'"):
        VoicePack("tiny", 22050, {}).clip("qing")


def test_read_back_clip_equals_file(default_dir: Path, pack: VoicePack) -> None:
    assert pack.clip("digit_7") == read_wav(default_dir / "digit_7.wav")
