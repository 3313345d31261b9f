"""The announcement queue: one per display, calls said one at a time, in the order called.

Calls never overlap and are never dropped: a recall of a number still waiting is said
again. When the backlog grows past ``backlog`` calls, each call is said once, not twice.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from display.voice.phrase import (
    MAX_REPEAT,
    PAUSES,
    Pauses,
    announcement_plan,
    render_announcement,
)
from voice.errors import VoiceError
from voice.pack import VoicePack
from voice.speaker import Speaker

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Call:
    """A ticket number called to a window, as the voice receives it."""

    number: str
    window: str
    recall: bool = False

    @property
    def title(self) -> str:
        """How logs and recordings name this call, e.g. 'A012 → 3 (recall)'."""
        return f"{self.number} → {self.window}" + (" (recall)" if self.recall else "")


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class AnnouncementQueue:
    """Queues calls and plays them through one speaker, never two at once.

    ``announce`` may be called from any thread (an MQTT callback, say) once the queue knows
    its event loop: it was made inside it, or ``run`` has started. Rendering and playback
    run in one worker thread.
    """

    def __init__(
        self,
        pack: VoicePack,
        speaker: Speaker,
        *,
        repeat: int = 2,
        english: bool = False,
        backlog: int = 5,
        pauses: Pauses = PAUSES,
    ) -> None:
        if backlog < 1:
            raise ValueError(f"backlog {backlog}: must be at least 1 call")
        if not 1 <= repeat <= MAX_REPEAT:
            raise ValueError(f"repeat {repeat}: say a call 1 to {MAX_REPEAT} times")
        self.pack = pack
        self.speaker = speaker
        self.repeat = repeat
        self.english = english
        self.backlog = backlog
        self.pauses = pauses
        self._calls: asyncio.Queue[Call] = asyncio.Queue()
        self._loop: asyncio.AbstractEventLoop | None = _running_loop()
        self._running = False

    @property
    def waiting(self) -> int:
        """Calls queued and not yet taken up for playing."""
        return self._calls.qsize()

    def announce(self, number: str, window: str, recall: bool = False) -> Call:
        """Queue a call; a number or window no clip can say raises UnspeakableError now."""
        announcement_plan(number, window, self.english, 1, self.pauses)
        call = Call(number, window, recall)
        loop = self._loop
        if loop is not None and _running_loop() is not loop:
            loop.call_soon_threadsafe(self._calls.put_nowait, call)
        else:
            self._calls.put_nowait(call)
        log.debug("queued %s", call.title)
        return call

    async def run(self) -> None:
        """Say queued calls forever, one after another; cancel the task to stop."""
        if self._running:
            raise RuntimeError("this announcement queue is already running")
        self._running = True
        self._loop = asyncio.get_running_loop()
        player = ThreadPoolExecutor(max_workers=1, thread_name_prefix="speaker")
        try:
            while True:
                call = await self._calls.get()
                try:
                    await self._say(call, player)
                finally:
                    self._calls.task_done()
        finally:
            player.shutdown(wait=False, cancel_futures=True)
            self._running = False

    async def join(self) -> None:
        """Wait until every call queued so far has been said (or failed)."""
        await self._calls.join()

    def _repeat_for(self, call: Call) -> int:
        pending = self._calls.qsize() + 1
        if pending > self.backlog and self.repeat > 1:
            log.info("backlog of %d calls: saying %s once", pending, call.title)
            return 1
        return self.repeat

    async def _say(self, call: Call, player: ThreadPoolExecutor) -> None:
        loop = asyncio.get_running_loop()
        repeat = self._repeat_for(call)
        try:
            audio = await loop.run_in_executor(
                player,
                render_announcement,
                self.pack,
                call.number,
                call.window,
                self.english,
                repeat,
                self.pauses,
            )
            await loop.run_in_executor(player, self.speaker.play, audio, call.title)
        except VoiceError as exc:
            log.error("could not announce %s: %s", call.title, exc)
