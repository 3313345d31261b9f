"""A display's connection to the hall: follows retained state, calls and the controller's
presence over the link, folds them into the DisplayModel and tells the screen and voice.

No Kivy here: the app, the tests and the latency benchmark use the same feed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable

from display.model import DisplayModel
from protocol import messages as m
from protocol.link import BrokerSettings, Inbound, Link
from protocol.topics import CONTROLLER_ID, EventKind, HallTopics

log = logging.getLogger(__name__)

LIVE_CALLS_KEPT = 1000  # a busy hall makes a few hundred calls a day
ChangeListener = Callable[[], None]
CallListener = Callable[[m.CallEvent], None]


def display_filters(topics: HallTopics) -> list[str]:
    """What a display follows: all retained state, calls, and whether the controller is up."""
    return [topics.all_state, topics.event(EventKind.CALL), topics.presence(CONTROLLER_ID)]


class DisplayFeed:
    """Keeps one display's model up to date from its link; runs on the link's asyncio loop."""

    def __init__(self, link: Link, model: DisplayModel | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.link = link
        self.model = model or DisplayModel()
        self.clock = clock
        self.live_calls: deque[m.CallEvent] = deque(maxlen=LIVE_CALLS_KEPT)  # heard, in order
        self._on_change: list[ChangeListener] = []
        self._on_call: list[CallListener] = []
        self._changed = asyncio.Event()  # set, then replaced, at every change
        link.on_message(self._inbound)
        link.on_connection(self._connection)

    @classmethod
    def connect_to(cls, broker: BrokerSettings, hall: str, device: str,
                   model: DisplayModel | None = None) -> DisplayFeed:
        """A feed on a new link for display ``device`` of ``hall``."""
        link = Link(broker, hall, device, m.Role.DISPLAY,
                    follow=display_filters(HallTopics(hall)))
        return cls(link, model)

    def on_change(self, listener: ChangeListener) -> None:
        """Call ``listener()`` whenever the picture may have changed."""
        self._on_change.append(listener)

    def on_call(self, listener: CallListener) -> None:
        """Call ``listener(call)`` for each fresh live call (never the retained backlog)."""
        self._on_call.append(listener)

    async def start(self, wait: float | None = None) -> None:
        """Connect; with ``wait`` None, keep trying in the background (the screen shows offline)."""
        await self.link.start(wait)

    async def close(self) -> None:
        """Disconnect, saying 'stopped'; the model keeps the last picture."""
        await self.link.close()
        self._connection(False)

    async def wait_until(self, ready: Callable[[DisplayModel], bool], timeout: float) -> None:
        """Wait until ``ready(model)`` holds, looking again after every message;
        TimeoutError after ``timeout`` seconds."""
        async with asyncio.timeout(timeout):
            while not ready(self.model):
                await self._changed.wait()

    # ------------------------------------------------------------ from the link
    def _inbound(self, inbound: Inbound) -> None:
        folded = self.model.fold(inbound.topic, inbound.payload, self.clock(), inbound.retained)
        if folded.call is not None:
            self.live_calls.append(folded.call)
            log.info("call %d: %s to %s%s", folded.call.seq, folded.call.number,
                     folded.call.counter, " (recall)" if folded.call.recall else "")
            for call_listener in self._on_call:
                _safely(call_listener, folded.call)
        if folded.changed:
            self._tell()
        else:
            self._wake()

    def _connection(self, up: bool) -> None:
        if not self.model.set_link(up):
            return
        if up:
            log.info("display link up")
        else:
            log.warning("display link down: keeping the last picture")
        self._tell()

    def _tell(self) -> None:
        for listener in self._on_change:
            _safely(listener)
        self._wake()

    def _wake(self) -> None:
        """Let ``wait_until`` look again (after every message, changed or not)."""
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()


def _safely(listener: Callable[..., None], *args: object) -> None:
    """A failing screen or speaker must not stop the feed."""
    try:
        listener(*args)
    except Exception:
        log.exception("display listener %r failed", listener)
