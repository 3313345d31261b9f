"""The lobby display's voice: chime and spoken calls joined from a voice pack's clips.

Start with ``phrase`` (what a call sounds like), then ``announcer`` (the queue).
"""

from __future__ import annotations

from display.voice.announcer import AnnouncementQueue, Call
from display.voice.phrase import Pauses, announcement_clips, render_announcement
from voice.audio import Audio, read_wav, write_wav
from voice.default_pack import build_pack, ensure_default_pack, open_voice
from voice.errors import (
    ClipError,
    PackError,
    PackMissingError,
    SpeakerChoiceError,
    SpeakerError,
    SynthesisError,
    UnspeakableError,
    VoiceError,
)
from voice.pack import DEFAULT_PACK_DIR, VoicePack, load_pack
from voice.speaker import CommandSpeaker, RecordingSpeaker, Speaker, choose_speaker

__all__ = [
    "DEFAULT_PACK_DIR",
    "AnnouncementQueue",
    "Audio",
    "Call",
    "ClipError",
    "CommandSpeaker",
    "PackError",
    "PackMissingError",
    "Pauses",
    "RecordingSpeaker",
    "Speaker",
    "SpeakerChoiceError",
    "SpeakerError",
    "SynthesisError",
    "UnspeakableError",
    "VoiceError",
    "VoicePack",
    "announcement_clips",
    "build_pack",
    "choose_speaker",
    "ensure_default_pack",
    "load_pack",
    "open_voice",
    "read_wav",
    "render_announcement",
    "write_wav",
]
