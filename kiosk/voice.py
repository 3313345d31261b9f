"""The kiosk's voice: says the flow's `Speak` prompts through the same packs and speakers as
the displays (the shared `voice` package).

One prompt plays at a time in one worker thread; a prompt that arrives while another plays
waits, and a newer one replaces it (the resident has moved on). A clip the pack lacks is
logged and left out, and a speaker failure is logged: the kiosk never stops for its voice.
"""

from __future__ import annotations

import asyncio
import logging
from array import array
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from kiosk.events import Speak
from voice.audio import FULL_SCALE, Audio, join, silence
from voice.default_pack import open_voice
from voice.errors import VoiceError
from voice.pack import DEFAULT_PACK_DIR, VoicePack
from voice.speaker import Speaker, choose_speaker

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Pauses:
    """Silences in seconds: between the clips of one word (a number) and between words."""

    in_word: float = 0.05
    between_words: float = 0.30


def render_prompt(pack: VoicePack, prompt: Speak, volume: float = 1.0,
                  pauses: Pauses = Pauses()) -> Audio | None:
    """The prompt as one signal at ``volume`` (0-1); clips the pack lacks are logged and
    left out; None when it has none of them."""
    parts: list[Audio] = []
    for word in prompt.words:
        have = [key for key in word if key in pack.keys]
        for key in sorted(set(word) - set(have)):
            log.warning("voice pack %s has no clip %r: %s said without it", pack.name, key,
                        prompt.name)
        for index, key in enumerate(have):
            parts.append(pack.clip(key))
            last = index == len(have) - 1
            parts.append(silence(pauses.between_words if last else pauses.in_word,
                                 pack.sample_rate))
    if not parts:
        return None
    return scaled(join(parts[:-1]), volume)


def scaled(audio: Audio, volume: float) -> Audio:
    """The audio at ``volume`` (0 silent, 1 as recorded)."""
    if volume >= 1.0:
        return audio
    samples = array("h", (max(-FULL_SCALE, min(FULL_SCALE, round(s * volume)))
                          for s in audio.samples))
    return Audio(samples, audio.rate)


class KioskVoice:
    """Plays prompts one at a time; the newest waiting prompt replaces an older one."""

    def __init__(self, pack: VoicePack, speaker: Speaker, volume: float = 1.0) -> None:
        if not 0.0 <= volume <= 1.0:
            raise ValueError(f"volume {volume}: choose from 0 to 1")
        self.pack, self.speaker, self.volume = pack, speaker, volume
        self._waiting: Speak | None = None
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()

    def say(self, prompt: Speak) -> None:
        """Queue ``prompt`` (on the loop), replacing a prompt still waiting to be said."""
        if self._waiting is not None:
            log.debug("%s replaced by %s before it was said", self._waiting.name, prompt.name)
        self._waiting = prompt
        self._idle.clear()
        self._wake.set()

    async def run(self) -> None:
        """Say queued prompts until cancelled."""
        player = ThreadPoolExecutor(1, thread_name_prefix="kiosk-voice")
        loop = asyncio.get_running_loop()
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                prompt, self._waiting = self._waiting, None
                if prompt is not None:
                    await loop.run_in_executor(player, self._play, prompt)
                if self._waiting is None:
                    self._idle.set()
        finally:
            player.shutdown(wait=False, cancel_futures=True)

    async def join(self) -> None:
        """Wait until every prompt queued so far has been said (or replaced, or failed)."""
        await self._idle.wait()

    def _play(self, prompt: Speak) -> None:
        try:
            audio = render_prompt(self.pack, prompt, self.volume)
            if audio is None:
                log.error("nothing to say for %s: the voice pack has none of its clips",
                          prompt.name)
                return
            self.speaker.play(audio, f"{prompt.name}: {' '.join(prompt.clips)}")
        except VoiceError as exc:
            log.error("could not say %s: %s", prompt.name, exc)


def open_kiosk_voice(pack_dir: Path | None, default_dir: Path = DEFAULT_PACK_DIR,
                     speaker: str | None = None, device: str | None = None,
                     volume: float = 1.0) -> KioskVoice:
    """The hall's pack (if any) over the default one, through the chosen speaker; builds
    the default pack with espeak-ng if it is missing (a few seconds: call it off the loop)."""
    return KioskVoice(open_voice(pack_dir, default_dir), choose_speaker(speaker, device), volume)
