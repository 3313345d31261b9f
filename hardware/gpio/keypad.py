"""The clerk's call keypad at a window: six keys read through gpiozero, debounced here."""

from __future__ import annotations

import logging
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from enum import StrEnum
from typing import TYPE_CHECKING

from gpiozero.pins import Factory

from hardware.gpio.contacts import SLACK_S, Clock, Contact
from hardware.gpio.pins import close_all, open_devices, pull_up_button

if TYPE_CHECKING:
    from hardware.gpio.config import KeypadPins

log = logging.getLogger(__name__)


class Action(StrEnum):
    """What a key asks the window to do, plus the keypad's own hold-to-confirm feedback."""

    NEXT = "next"
    RECALL = "recall"
    NO_SHOW = "no_show"
    TRANSFER = "transfer"
    PAUSE = "pause"
    DONE = "done"
    NEEDS_HOLD = "needs_hold"


KEYS = (Action.NEXT, Action.RECALL, Action.NO_SHOW, Action.TRANSFER, Action.PAUSE, Action.DONE)

ActionListener = Callable[[Action], None]


class CounterKeypad(ABC):
    """The clerk's keys at one window, whatever they are made of."""

    @abstractmethod
    def on_action(self, listener: ActionListener) -> None:
        """Call listener with every Action the clerk gives, on the keypad's thread."""

    @abstractmethod
    def close(self) -> None:
        """Stop listening and release the keys."""


class Keypad(CounterKeypad):
    """Keys wired to GPIO pins (pull-up, pressed = low), read through gpiozero input devices.

    A press counts only debounce_ms after the last press or release that counted. Keys in
    hold_to_confirm act on release, and only if held hold_ms; a shorter press gives
    Action.NEEDS_HOLD so the window can tell the clerk to hold the key.
    """

    def __init__(
        self,
        pins: KeypadPins,
        factory: Factory | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        self._hold_s = pins.hold_ms / 1000
        self._hold_to_confirm = pins.hold_to_confirm
        self._listeners: list[ActionListener] = []
        self._lock = threading.Lock()
        wiring = pins.wiring()
        labels = {f"keypad.{action.value}": pin for action, pin in wiring.items()}
        self._buttons = open_devices(labels, pull_up_button, factory)
        for action in wiring:
            button = self._buttons[f"keypad.{action.value}"]
            contact = Contact(pins.debounce_ms / 1000, clock)
            button.when_activated = self._on_press(action, contact)
            button.when_deactivated = self._on_release(action, contact)
        log.info("keypad open on %s", ", ".join(f"{a}=GPIO{p}" for a, p in wiring.items()))

    def on_action(self, listener: ActionListener) -> None:
        """Call listener with every Action the clerk gives, on the keypad's thread."""
        with self._lock:
            self._listeners.append(listener)

    def close(self) -> None:
        """Stop listening and release the pins."""
        close_all(self._buttons.values())

    def _on_press(self, action: Action, contact: Contact) -> Callable[[], None]:
        def pressed() -> None:
            if not contact.press():
                log.debug("keypad %s: bounce ignored", action)
            elif action not in self._hold_to_confirm:
                self._tell(action)

        return pressed

    def _on_release(self, action: Action, contact: Contact) -> Callable[[], None]:
        def released() -> None:
            held_s = contact.release()
            if held_s is None or action not in self._hold_to_confirm:
                return
            if held_s + SLACK_S >= self._hold_s:
                self._tell(action)
            else:
                log.info(
                    "keypad %s: held %.2f s of %.2f s, needs hold", action, held_s, self._hold_s
                )
                self._tell(Action.NEEDS_HOLD)

        return released

    def _tell(self, action: Action) -> None:
        with self._lock:
            listeners = list(self._listeners)
        log.debug("keypad: %s", action)
        for listener in listeners:
            try:
                listener(action)
            except Exception:
                log.exception("keypad listener %r failed on %s", listener, action)
