"""The voice's error tree: one root, each error also a matching builtin."""

from __future__ import annotations


class VoiceError(Exception):
    """Root of every error raised by the voice (the displays' calls, the kiosks' prompts)."""


class PackError(VoiceError, ValueError):
    """A voice pack is malformed: bad manifest, missing or unreadable clip."""


class PackMissingError(PackError, FileNotFoundError):
    """A voice pack directory or its pack.toml does not exist."""


class ClipError(PackError):
    """One clip file cannot be used (wrong format, unreadable)."""


class UnspeakableError(VoiceError, ValueError):
    """A ticket number or window id has a character no clip can say."""


class SynthesisError(VoiceError, OSError):
    """espeak-ng is missing or failed while building the default pack."""


class SpeakerError(VoiceError, OSError):
    """The speaker could not play an announcement."""


class SpeakerChoiceError(VoiceError, ValueError):
    """The configured speaker kind is not one the display knows."""
