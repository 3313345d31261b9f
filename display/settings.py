"""A display's settings file: [device], [broker] and [display] (mode, screen, voice, text)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from display.model import FLASH_S
from protocol.device import DeviceSettings, load_device_settings

DEFAULT_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")
LOBBY_SIZE = (1920, 1080)
COUNTER_SIZE = (800, 480)  # the Raspberry Pi 7" touch screen, mounted above a window


class Mode(StrEnum):
    """Which screen a display draws."""

    LOBBY = "lobby"  # the hall's wall screen (综合屏)
    COUNTER = "counter"  # the small screen above one window


class ScreenSettings(BaseModel):
    """The [display] section."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    mode: Mode = Field(Mode.LOBBY, description="lobby (wall screen) or counter (above a window)")
    counter: str | None = Field(None, pattern=r"^[A-Za-z0-9_-]{1,40}$",
                                description="the window this screen hangs over (counter mode)")
    resolution: tuple[int, int] | None = Field(
        None, description="[width, height] in pixels; default 1920x1080 lobby, 800x480 counter")
    fullscreen: bool = Field(True, description="take the whole screen (off for a desktop window)")
    english: bool = Field(True, description="English lines on screen and in the announcement")
    voice: bool = Field(True, description="announce calls: chime, then Mandarin")
    voice_pack: Path | None = Field(None, description="hall voice pack overriding default clips")
    default_voice_pack: Path | None = Field(
        None, description="where the espeak-ng default pack is built on first start; default "
        "$STATE_DIRECTORY/voicepack under systemd, else voicepacks/generated/default")
    speaker: str | None = Field(None, description="aplay, paplay, play or sim; default: detect")
    speaker_device: str | None = Field(None, description="ALSA/Pulse device of the speaker")
    repeat: int = Field(2, ge=1, le=5, description="times each call is said")
    notice_speed: float = Field(110.0, gt=0, le=2000,
                                description="scrolling notice speed, pixels a second")
    flash_seconds: float = Field(FLASH_S, ge=0, le=60, description="how long a new call flashes")
    font: Path = Field(DEFAULT_FONT, description="a font with Chinese and Latin glyphs")

    @field_validator("resolution")
    @classmethod
    def _sane_size(cls, value: tuple[int, int] | None) -> tuple[int, int] | None:
        if value is not None and not all(160 <= side <= 8192 for side in value):
            raise ValueError(f"{value[0]}x{value[1]}: each side must be 160-8192 pixels")
        return value

    @field_validator("font")
    @classmethod
    def _font_exists(cls, value: Path) -> Path:
        if not value.is_file():
            raise ValueError(f"{value}: no such font file (install fonts-wqy-zenhei)")
        return value

    @model_validator(mode="after")
    def _counter_mode_needs_counter(self) -> ScreenSettings:
        if self.mode is Mode.COUNTER and self.counter is None:
            raise ValueError("counter mode needs counter = the window's id, e.g. \"3\"")
        return self

    @property
    def size(self) -> tuple[int, int]:
        """The window size in pixels."""
        if self.resolution is not None:
            return self.resolution
        return LOBBY_SIZE if self.mode is Mode.LOBBY else COUNTER_SIZE


class DisplaySettings(DeviceSettings):
    """A display's whole settings file."""

    display: ScreenSettings = ScreenSettings()


def load_display_settings(path: str | Path) -> DisplaySettings:
    """Read and check a display's TOML file; DeviceConfigError names the bad key."""
    return load_device_settings(path, DisplaySettings)
