"""Where announcements are heard: a real speaker through a player command, or a recorder.

``choose_speaker`` picks one by explicit argument, then the LOBBY_SPEAKER environment
variable, then the first player found (aplay, paplay, sox's play).
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

from voice.audio import Audio, wav_bytes
from voice.errors import SpeakerChoiceError, SpeakerError

log = logging.getLogger(__name__)

PLAYERS = ("aplay", "paplay", "play")
SIMULATED = "sim"


class Speaker(ABC):
    """Plays one announcement; ``play`` returns once it has been heard."""

    @abstractmethod
    def play(self, audio: Audio, title: str) -> None:
        """Play ``audio`` to the end; ``title`` names it in logs and records."""


class CommandSpeaker(Speaker):
    """A real speaker: pipes each announcement as WAV into a player command."""

    def __init__(self, command: Sequence[str]) -> None:
        self.command = list(command)

    def __repr__(self) -> str:
        return f"CommandSpeaker({self.command!r})"

    def play(self, audio: Audio, title: str) -> None:
        """Run the player on the WAV bytes and wait for it to finish."""
        log.info("playing %s (%.1f s) with %s", title, audio.duration, self.command[0])
        try:
            done = subprocess.run(
                self.command,
                input=wav_bytes(audio),
                capture_output=True,
                timeout=audio.duration + 10,
                check=False,
            )
        except FileNotFoundError as exc:
            raise SpeakerError(f"{self.command[0]} not found: is its package installed?") from exc
        except subprocess.TimeoutExpired as exc:
            raise SpeakerError(f"{self.command[0]} hung playing {title}") from exc
        if done.returncode != 0:
            lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
            reason = "; ".join(lines[-3:]) or "no message"
            raise SpeakerError(f"{self.command[0]} failed ({done.returncode}): {reason}")


def player_command(player: str, device: str | None = None) -> list[str]:
    """The command line that plays a WAV from standard input on ``player``."""
    if player == "aplay":
        return ["aplay", "-q", *(["-D", device] if device else []), "-"]
    if player == "paplay":
        return ["paplay", *([f"--device={device}"] if device else [])]
    if player == "play":
        return ["play", "-q", "-t", "wav", "-"]
    raise SpeakerChoiceError(f"speaker {player!r}: choose one of {', '.join(PLAYERS)} or sim")


@dataclass(frozen=True)
class PlayedAnnouncement:
    """One announcement a RecordingSpeaker played, with monotonic start and end times."""

    title: str
    audio: Audio
    start: float
    end: float


class RecordingSpeaker(Speaker):
    """A simulated speaker: takes each announcement's length (divided by ``speed``) to play
    it, and records what it played and when. Verbs: ``unplug()``, ``plug_in()``."""

    def __init__(self, speed: float = 1000.0) -> None:
        if speed <= 0:
            raise ValueError(f"speed {speed}: must be above 0")
        self.speed = speed
        self.played: list[PlayedAnnouncement] = []
        self._plugged = True
        self._changed = threading.Condition()

    def play(self, audio: Audio, title: str) -> None:
        """Block for the (scaled) length of ``audio``, then record it."""
        with self._changed:
            if not self._plugged:
                raise SpeakerError(f"speaker unplugged while playing {title}")
        start = time.monotonic()
        time.sleep(audio.duration / self.speed)
        end = time.monotonic()
        with self._changed:
            self.played.append(PlayedAnnouncement(title, audio, start, end))
            self._changed.notify_all()

    def unplug(self) -> None:
        """Make every following ``play`` fail, as a pulled cable would."""
        with self._changed:
            self._plugged = False

    def plug_in(self) -> None:
        """Make ``play`` work again."""
        with self._changed:
            self._plugged = True

    @property
    def titles(self) -> list[str]:
        """Titles of everything played, in order."""
        with self._changed:
            return [p.title for p in self.played]

    def wait_until_played(self, count: int, timeout: float) -> bool:
        """Wait until at least ``count`` announcements have played; False on timeout."""
        with self._changed:
            return self._changed.wait_for(lambda: len(self.played) >= count, timeout)


def choose_speaker(kind: str | None = None, device: str | None = None) -> Speaker:
    """The speaker by argument, then LOBBY_SPEAKER, then the first player installed."""
    kind = kind or os.environ.get("LOBBY_SPEAKER") or "auto"
    device = device or os.environ.get("LOBBY_SPEAKER_DEVICE") or None
    if kind == SIMULATED:
        return RecordingSpeaker()
    if kind == "auto":
        found = [player for player in PLAYERS if shutil.which(player)]
        if not found:
            raise SpeakerError("no audio player found: install alsa-utils (aplay)")
        kind = found[0]
    command = player_command(kind, device)
    if shutil.which(command[0]) is None:
        raise SpeakerError(f"{command[0]} not found: is its package installed?")
    log.info("speaking through %s", " ".join(command))
    return CommandSpeaker(command)
