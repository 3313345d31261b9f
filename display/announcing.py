"""The display's voice wiring: every live call from the feed, recalls too, into one
announcement queue; never the retained backlog a display reads after a restart."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from pathlib import Path

from display.feed import DisplayFeed
from display.settings import Mode, ScreenSettings
from display.voice import (
    DEFAULT_PACK_DIR,
    AnnouncementQueue,
    VoiceError,
    choose_speaker,
    open_voice,
)
from protocol import messages as m

log = logging.getLogger(__name__)


async def speak(screen: ScreenSettings, feed: DisplayFeed) -> None:
    """Say every live call from now until cancelled; return at once if there is no voice.

    The default voice pack is built with espeak-ng on first start (a few seconds), off the
    loop, so the screen comes up meanwhile.
    """
    loop = asyncio.get_running_loop()
    try:
        pack = await loop.run_in_executor(None, open_voice, screen.voice_pack,
                                          default_pack_dir(screen))
        speaker = choose_speaker(screen.speaker, screen.speaker_device)
        queue = AnnouncementQueue(pack, speaker, repeat=screen.repeat, english=screen.english)
    except (VoiceError, OSError) as exc:
        log.error("no voice: %s; calls are shown but not announced", exc)
        return
    feed.on_call(announcer(queue, screen.counter if screen.mode is Mode.COUNTER else None))
    log.info("announcing calls through %s", type(speaker).__name__)
    await queue.run()


def default_pack_dir(screen: ScreenSettings) -> Path:
    """Where the default pack lives: the setting, else systemd's state directory (the
    install tree is read-only there), else the source tree's voicepacks/generated/default."""
    if screen.default_voice_pack is not None:
        return screen.default_voice_pack
    state = os.environ.get("STATE_DIRECTORY")
    return Path(state.split(":")[0]) / "voicepack" if state else DEFAULT_PACK_DIR


def announcer(queue: AnnouncementQueue,
              counter: str | None = None) -> Callable[[m.CallEvent], None]:
    """A call listener that queues each live call (recalls too) for announcing.

    A counter screen with a voice of its own says only the calls to its window.
    """

    def announce(call: m.CallEvent) -> None:
        if counter is not None and call.counter != counter:
            return
        try:
            queue.announce(call.number, call.counter, call.recall)
        except VoiceError as exc:
            log.error("cannot announce call %d (%s to %s): %s", call.seq, call.number,
                      call.counter, exc)

    return announce
