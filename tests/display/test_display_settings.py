"""A display's settings file and ``python -m display --validate-config``."""

from __future__ import annotations

from pathlib import Path

import pytest

from display.__main__ import main
from display.announcing import default_pack_dir
from display.settings import COUNTER_SIZE, LOBBY_SIZE, Mode, ScreenSettings, load_display_settings
from display.voice import DEFAULT_PACK_DIR
from protocol.device import DeviceConfigError

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_the_example_lobby_and_window_displays_load() -> None:
    lobby = load_display_settings(EXAMPLES / "display-lobby.toml")
    assert lobby.device.id == "display-lobby" and lobby.display.mode is Mode.LOBBY
    assert lobby.display.size == LOBBY_SIZE and lobby.display.voice
    window = load_display_settings(EXAMPLES / "display-w3.toml")
    assert (window.display.mode, window.display.counter) == (Mode.COUNTER, "3")
    assert window.display.size == COUNTER_SIZE and not window.display.voice


def test_the_screen_size_follows_the_mode_unless_given() -> None:
    assert ScreenSettings(mode=Mode.COUNTER, counter="3").size == COUNTER_SIZE
    assert ScreenSettings(resolution=(1280, 720)).size == (1280, 720)


def test_counter_mode_needs_the_window() -> None:
    with pytest.raises(ValueError, match="counter mode needs counter"):
        ScreenSettings(mode=Mode.COUNTER)


def write(tmp_path: Path, display: str) -> Path:
    path = tmp_path / "display.toml"
    path.write_text(f'[device]\nid = "display-lobby"\nhall = "tianping"\n\n[display]\n{display}\n',
                    encoding="utf-8")
    return path


@pytest.mark.parametrize(("display", "named"), [
    ('mode = "wall"', "display.mode"),
    ("resolution = [1920, 20]", "display.resolution"),
    ('font = "/no/such/font.ttc"', "display.font"),
    ("notice_speed = -3", "display.notice_speed"),
    ("colour = 1", "display.colour: unknown key"),
])
def test_a_bad_setting_is_named(tmp_path: Path, display: str, named: str) -> None:
    with pytest.raises(DeviceConfigError, match=named.replace(".", r"\.")):
        load_display_settings(write(tmp_path, display))


def test_validate_config_says_ok_or_names_the_problem(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", str(EXAMPLES / "display-w3.toml"), "--validate-config"]) == 0
    assert "ok (counter display display-w3, 800x480)" in capsys.readouterr().out
    bad = write(tmp_path, 'mode = "counter"')
    assert main(["--config", str(bad), "--validate-config"]) == 2
    assert "counter mode needs counter" in capsys.readouterr().err


def test_the_command_line_overrides_mode_and_resolution(capsys: pytest.CaptureFixture[str]) -> None:
    lobby = str(EXAMPLES / "display-lobby.toml")
    assert main(["--config", lobby, "--mode", "counter", "--counter", "7",
                 "--resolution", "1024x600", "--validate-config"]) == 0
    assert "counter display display-lobby, 1024x600" in capsys.readouterr().out
    assert main(["--config", lobby, "--resolution", "big", "--validate-config"]) == 2
    assert "WIDTHxHEIGHT" in capsys.readouterr().err


def test_the_default_voice_pack_is_built_where_the_display_may_write(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STATE_DIRECTORY", raising=False)
    assert default_pack_dir(ScreenSettings()) == DEFAULT_PACK_DIR
    monkeypatch.setenv("STATE_DIRECTORY", f"{tmp_path}/lobby:{tmp_path}/other")
    assert default_pack_dir(ScreenSettings()) == tmp_path / "lobby" / "voicepack"
    chosen = ScreenSettings(default_voice_pack=tmp_path / "mine")
    assert default_pack_dir(chosen) == tmp_path / "mine"
