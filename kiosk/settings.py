"""The kiosk's settings file: [device] and [broker] from protocol.device, plus [kiosk],
[reader] and [printer]; and the hall secret (systemd credential ``hall-secret`` first)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from kiosk.flow import FlowSettings
from kiosk.texts import Language
from protocol.device import DeviceConfigError, DeviceSettings, load_device_settings
from protocol.identity import MIN_SECRET_BYTES

CREDENTIAL = "hall-secret"
Option = str | int | float | bool


class KioskConfigError(DeviceConfigError):
    """A kiosk settings file or secret that cannot be used; the message names the problem."""


class Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class KioskSection(Section):
    """How the kiosk behaves: language, timeouts, screen, printer policy."""

    secret_file: str | None = Field(
        None, description="file with the hall secret (HMAC key), relative to this file; "
                          "the systemd credential 'hall-secret' takes precedence")
    language: Language = Field(Language.ZH, description="the language screens start in")
    orientation: Literal["landscape", "portrait"] = "landscape"
    fullscreen: bool = True
    idle_timeout_s: float = Field(30, ge=5, le=600, description="no touch: back to idle")
    done_s: float = Field(10, ge=2, le=120, description="how long the ticket screen stays")
    notice_s: float = Field(12, ge=2, le=120, description="how long a message stays")
    help_s: float = Field(60, ge=5, le=600, description="how long the help screen stays")
    request_timeout_s: float = Field(3, gt=0, le=30, description="wait for the controller")
    print_timeout_s: float = Field(20, ge=2, le=120, description="give up on a stuck print")
    printer_poll_s: float = Field(5, ge=0.5, le=300, description="printer status poll period")
    recovery_s: float = Field(10, ge=0, le=600,
                              description="the printer must be well this long to resume")
    paper_low_stops: bool = Field(True, description="paper low takes the kiosk out of service")
    voice: bool = Field(False, description="speak each step's prompt (kiosk/README.md, Voice)")
    volume: float = Field(0.8, ge=0, le=1, description="prompt loudness, 0 to 1")
    voice_pack: str | None = Field(
        None, description="the hall's recorded clips (e.g. Shanghainese), relative to this "
                          "file; they replace the default pack's clips of the same name")
    speaker: Literal["aplay", "paplay", "play", "sim"] | None = Field(
        None, description="how prompts are played; unset: $LOBBY_SPEAKER, then detect")
    speaker_device: str | None = Field(None, description="ALSA/Pulse device of the speaker")

    def flow(self) -> FlowSettings:
        """The flow's share of these settings."""
        return FlowSettings(
            language=self.language, idle_timeout_s=self.idle_timeout_s, done_s=self.done_s,
            notice_s=self.notice_s, help_s=self.help_s, print_timeout_s=self.print_timeout_s,
            recovery_s=self.recovery_s, paper_low_stops=self.paper_low_stops)


class ReaderSection(Section):
    """The ID-card reader; kind None falls back to $LOBBY_CARD_READER, then the simulator."""

    kind: Literal["sam", "line", "keyboard", "sim"] | None = None
    port: str | None = Field(None, description="pyserial URL, e.g. /dev/ttyUSB0")
    options: dict[str, Option] = Field({}, description="driver options, e.g. poll_interval")


class PrinterSection(Section):
    """The ticket printer; kind None falls back to $LOBBY_PRINTER, then the simulator."""

    kind: Literal["usb", "serial", "network", "file", "sim"] | None = None
    width_px: Literal[576, 384] = Field(576, description="576 for 80 mm paper, 384 for 58 mm")
    options: dict[str, Option] = Field({}, description="driver options, e.g. vendor, product")


class KioskSettings(DeviceSettings):
    """A kiosk's whole settings file."""

    kiosk: KioskSection = KioskSection()
    reader: ReaderSection = ReaderSection()
    printer: PrinterSection = PrinterSection()


def load_settings(path: str | Path) -> KioskSettings:
    """Read and validate a kiosk settings file; KioskConfigError names the bad key."""
    try:
        return load_device_settings(path, KioskSettings)
    except DeviceConfigError as exc:
        raise KioskConfigError(str(exc)) from None


def load_secret(settings: KioskSettings, config_path: str | Path) -> bytes:
    """The hall secret: $CREDENTIALS_DIRECTORY/hall-secret, else [kiosk] secret_file."""
    credentials = os.environ.get("CREDENTIALS_DIRECTORY")
    if credentials and (Path(credentials) / CREDENTIAL).is_file():
        source = Path(credentials) / CREDENTIAL
    elif settings.kiosk.secret_file is not None:
        source = Path(config_path).parent / settings.kiosk.secret_file
    else:
        raise KioskConfigError(f"{config_path}: kiosk.secret_file is not set and no "
                               f"systemd credential {CREDENTIAL!r} was passed")
    try:
        secret = source.read_bytes().strip()
    except OSError as exc:
        raise KioskConfigError(f"{config_path}: cannot read the hall secret {source}: "
                               f"{exc.strerror}") from None
    if len(secret) < MIN_SECRET_BYTES:
        raise KioskConfigError(f"{config_path}: the hall secret {source} holds under "
                               f"{MIN_SECRET_BYTES} bytes")
    return secret
