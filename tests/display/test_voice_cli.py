"""The command lines, run as a hall technician would: python -m display.announce / build_pack."""

from __future__ import annotations

import math
import subprocess
import sys
from array import array
from pathlib import Path

import pytest

from display.voice.phrase import render_announcement
from voice.audio import Audio, read_wav, write_wav
from voice.pack import ALL_KEYS, PackManifest, is_complete, load_pack, write_manifest

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=60
    )


def test_announce_writes_the_rendered_call(default_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "a012.wav"
    done = run(
        "display.announce", "A012", "3", "--wav", str(out), "--default-pack", str(default_dir)
    )
    assert done.returncode == 0, done.stderr
    assert read_wav(out) == render_announcement(load_pack(default_dir), "A012", "3")
    assert done.stdout.splitlines()[0].startswith(f"wrote {out}: ")
    assert done.stdout.splitlines()[1].startswith("chime qing letter_A digit_0 digit_1 digit_2")


def test_announce_english_once_with_a_hall_pack(default_dir: Path, tmp_path: Path) -> None:
    hall = tmp_path / "hall"
    hall.mkdir()
    beep = Audio(array("h", (round(8000 * math.sin(i / 5)) for i in range(4000))), 22050)
    write_wav(beep, hall / "hao_dao.wav")
    write_manifest(
        hall, PackManifest(name="hall", languages=["cmn"], sample_rate=22050, clips=["hao_dao"])
    )
    out = tmp_path / "b101.wav"
    done = run(
        "display.announce",
        "B101",
        "12",
        "--wav",
        str(out),
        "--english",
        "--repeat",
        "1",
        "--pack",
        str(hall),
        "--default-pack",
        str(default_dir),
    )
    assert done.returncode == 0, done.stderr
    voice = load_pack(hall).over(load_pack(default_dir))
    assert read_wav(out) == render_announcement(voice, "B101", "12", english=True, repeat=1)
    assert f"lacks {len(ALL_KEYS) - 1} clips" in done.stderr
    assert done.stdout.splitlines()[1].endswith("en_please_go_to_window en_num_12")


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["A-12", "3"], 2, "ticket number 'A-12': no clip can say '-'"),
        (["A012", "3", "--repeat", "0"], 2, "repeat 0: say a call 1 to 5 times"),
        (["A012", "3", "--pack", "/nonexistent/pack"], 1, "no voice pack manifest"),
    ],
)
def test_announce_bad_input_gets_a_clear_error(
    default_dir: Path, tmp_path: Path, args: list[str], code: int, message: str
) -> None:
    out = tmp_path / "x.wav"
    done = run("display.announce", *args, "--wav", str(out), "--default-pack", str(default_dir))
    assert done.returncode == code
    assert message in done.stderr
    assert not out.exists()


def test_announce_builds_the_default_pack_when_it_is_missing(tmp_path: Path) -> None:
    pack_dir = tmp_path / "generated" / "default"
    out = tmp_path / "c007.wav"
    done = run("display.announce", "C007", "21", "--wav", str(out), "--default-pack", str(pack_dir))
    assert done.returncode == 0, done.stderr
    assert "is missing or incomplete: building it with espeak-ng" in done.stderr
    assert is_complete(pack_dir)
    assert read_wav(out) == render_announcement(load_pack(pack_dir), "C007", "21")


def test_build_pack_at_another_rate(tmp_path: Path) -> None:
    done = run("voice.build_pack", "--out", str(tmp_path / "p16"), "--rate", "16000")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"{len(ALL_KEYS)} clips at 16000 Hz in {tmp_path / 'p16'}")
    pack = load_pack(tmp_path / "p16")
    assert pack.sample_rate == 16000 and pack.clip("qing").rate == 16000
    assert not list(tmp_path.glob(".p16.building-*"))


def test_build_pack_refuses_a_silly_rate(tmp_path: Path) -> None:
    done = run("voice.build_pack", "--out", str(tmp_path / "p"), "--rate", "100")
    assert done.returncode == 2
    assert "--rate 100: choose a rate from 8000 to 48000 Hz" in done.stderr
