"""One window's link to the hall: sends the clerk's orders with retries and follows the counter.

The ``Station`` owns the MQTT ``Link`` and a ``CounterSession``. Keys, ratings and card swipes
come in (``act_soon`` and friends are safe to call from any thread, e.g. gpiozero's); what the
window should show and sound goes out to its panels (GPIO devices, the terminal UI).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any, Protocol

from caller.session import (
    BEEP_HOLD,
    ClerkAction,
    CounterSession,
    Lights,
    Order,
    Outcome,
    refusal,
)
from protocol import messages as m
from protocol.link import BrokerSettings, Inbound, Link, NotConnected, RequestTimeout
from protocol.topics import CONTROLLER_ID

log = logging.getLogger(__name__)


class Panel(Protocol):
    """Whatever shows the window's state to the clerk and the resident."""

    def show(self, lights: Lights) -> None:
        """Show the window's state (status LEDs)."""

    def beep(self, times: int) -> None:
        """Sound an alert."""

    def arm(self, ticket: str) -> None:
        """Ask the resident of this ticket for a rating."""

    def disarm(self) -> None:
        """Stop asking for a rating."""


class Station:
    """Sends one order at a time (retrying the same command id) and keeps panels up to date."""

    def __init__(self, link: Link, session: CounterSession, *, timeout: float = 3.0,
                 attempts: int = 3) -> None:
        self.link = link
        self.session = session
        self.timeout = timeout
        self.attempts = attempts
        self.last: Outcome | None = None
        self._panels: list[Panel] = []
        self._listeners: list[Callable[[], None]] = []
        self._shown: Lights | None = None
        self._sending = asyncio.Lock()
        self._clerk_busy = False
        self._tasks: set[asyncio.Task[Outcome]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None

    @classmethod
    def for_counter(cls, broker: BrokerSettings, hall: str, device: str,
                    session: CounterSession, **options: Any) -> Station:
        """A station whose link follows every state snapshot and the controller's presence."""
        link = Link(broker, hall, device, m.Role.CALLER)
        link.follow = [link.topics.all_state, link.topics.presence(CONTROLLER_ID)]
        return cls(link, session, **options)

    # ------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        """Connect in the background: until the broker answers, the lights say offline."""
        self._loop = asyncio.get_running_loop()
        self.link.on_message(self._on_message)
        self.link.on_connection(self._on_link)
        self._refresh()
        await self.link.start(wait=None)

    async def close(self) -> None:
        """Let orders in flight finish (bounded by their retries), then disconnect."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._panels.clear()  # the link's last word (down) must not reach closed devices
        await self.link.close()

    def add_panel(self, panel: Panel) -> None:
        """Show state on this panel from now on."""
        self._panels.append(panel)
        if self._shown is self.session.lights:
            panel.show(self._shown)
        else:
            self._refresh()

    def on_change(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` (on the loop) whenever anything the window shows may have changed."""
        self._listeners.append(listener)

    # ------------------------------------------------------------ from any thread
    def act_soon(self, action: ClerkAction) -> None:
        """A key pressed, on whatever thread saw it."""
        self._soon(lambda: self.act(action))

    def rate_soon(self, rating: int) -> None:
        """A rating given on the evaluator, on whatever thread saw it."""
        self._soon(lambda: self.rate(rating))

    def swipe_soon(self, card: str) -> None:
        """A staff card on the reader, on whatever thread read it."""
        self._soon(lambda: self.swipe(card))

    def _soon(self, make: Callable[[], Coroutine[Any, Any, Outcome]]) -> None:
        if self._loop is None or self._loop.is_closed():
            log.warning("input before the station started: ignored")
            return
        self._loop.call_soon_threadsafe(self._spawn, make)

    def _spawn(self, make: Callable[[], Coroutine[Any, Any, Outcome]]) -> None:
        task = asyncio.get_running_loop().create_task(make())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ------------------------------------------------------------ on the loop
    async def act(self, action: ClerkAction) -> Outcome:
        """A clerk's key; a key while the last one is still being sent is refused."""
        if self._clerk_busy and action is not ClerkAction.NEEDS_HOLD:
            return self._tell(refusal("still sending the last key", BEEP_HOLD))
        self._clerk_busy = True
        try:
            return await self.carry_out(self.session.order_for(action))
        finally:
            self._clerk_busy = False

    async def rate(self, rating: int) -> Outcome:
        """A resident's rating for the ticket the evaluator was armed for."""
        return await self.carry_out(self.session.rating_order(rating))

    async def sign_in(self, staff_no: str, pin: str) -> Outcome:
        """Sign a clerk in with staff number and PIN."""
        return await self.carry_out(self.session.sign_in_order(staff_no, pin))

    async def sign_out(self) -> Outcome:
        """Sign the clerk out."""
        return await self.carry_out(self.session.sign_out_order())

    async def swipe(self, card: str) -> Outcome:
        """Sign in (or out, on a second swipe) the clerk whose staff card this is."""
        return await self.carry_out(self.session.card_order(card))

    async def transfer(self, to_service: str | None, to_counter: str | None) -> Outcome:
        """Transfer the ticket in hand to a service, a counter, or the front of its queue."""
        return await self.carry_out(self.session.transfer_order(to_service, to_counter))

    async def carry_out(self, planned: Order | Outcome) -> Outcome:
        """Send an order (or just show a refusal) and show what came of it."""
        if isinstance(planned, Outcome):
            return self._tell(planned)
        async with self._sending:
            reply = await self._send(planned)
        return self._tell(self.session.settle(planned, reply))

    async def _send(self, order: Order) -> m.Reply | None:
        """The reply, retrying the same command (same id) on silence; None if none came."""
        for attempt in range(1, self.attempts + 1):
            try:
                if not self.link.connected:
                    await self.link.wait_connected(self.timeout)
                return await self.link.request(order.name, order.command, self.timeout)
            except (RequestTimeout, NotConnected, TimeoutError) as exc:
                log.warning("%s %s: attempt %d of %d got no answer (%s)", order.name,
                            order.command.id, attempt, self.attempts, exc)
        return None

    def _tell(self, outcome: Outcome) -> Outcome:
        if outcome.ok:
            log.info("counter %s: %s", self.session.counter, outcome.text)
        else:
            log.warning("counter %s: %s", self.session.counter, outcome.text)
        self.last = outcome
        for panel in self._panels:
            if outcome.beeps:
                panel.beep(outcome.beeps)
            if outcome.arm is not None:
                panel.arm(outcome.arm)
            elif outcome.disarm:
                panel.disarm()
        self._refresh()
        return outcome

    def _on_message(self, inbound: Inbound) -> None:
        topic, payload = inbound.topic, inbound.payload
        if topic.section == "presence" and topic.kind == CONTROLLER_ID:
            self.session.see_controller(payload if isinstance(payload, m.Presence) else None,
                                        inbound.retained)
        elif isinstance(payload, m.CounterState):
            self.session.see_counter(payload, retained=inbound.retained)
        self._refresh()

    def _on_link(self, up: bool) -> None:
        self.session.see_link(up)
        self._refresh()

    def _refresh(self) -> None:
        lights = self.session.lights
        if lights is not self._shown:
            self._shown = lights
            for panel in self._panels:
                panel.show(lights)
        for listener in self._listeners:
            listener()
