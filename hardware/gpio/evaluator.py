"""The resident-facing evaluator (评价器): one rating per finished service, only when asked."""

from __future__ import annotations

import logging
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from enum import IntEnum
from typing import TYPE_CHECKING

import gpiozero
from gpiozero.pins import Factory

from hardware.gpio.contacts import Clock, Contact
from hardware.gpio.pins import close_all, open_device, open_devices, pull_up_button

if TYPE_CHECKING:
    from hardware.gpio.config import EvaluatorPins

log = logging.getLogger(__name__)


class Rating(IntEnum):
    """The national 好差评 scale, 5 best."""

    VERY_SATISFIED = 5
    SATISFIED = 4
    BASIC = 3
    DISSATISFIED = 2
    VERY_DISSATISFIED = 1

    @property
    def label(self) -> str:
        """The rating's name in config files and logs, e.g. very_satisfied."""
        return self.name.lower()


RatingListener = Callable[[Rating], None]


class CounterEvaluator(ABC):
    """The evaluator at one window, whatever it is made of."""

    @abstractmethod
    def on_rating(self, listener: RatingListener) -> None:
        """Call listener with each accepted rating (an int 1-5), on the evaluator's thread."""

    @abstractmethod
    def arm(self) -> None:
        """Accept one rating from now on: a service has just ended."""

    @abstractmethod
    def disarm(self) -> None:
        """Stop accepting a rating."""

    @property
    @abstractmethod
    def armed(self) -> bool:
        """Whether a rating is awaited."""

    @abstractmethod
    def expire_if_idle(self, now: float | None = None) -> bool:
        """Disarm if armed for longer than the timeout; return True if it did."""

    @abstractmethod
    def close(self) -> None:
        """Stop listening and release the device."""


class Evaluator(CounterEvaluator):
    """Rating buttons (pull-up, pressed = low) and a please-rate LED on GPIO pins.

    Presses are ignored unless armed. The first real press after arm() gives its rating and
    disarms; so does the timeout, checked on every press and by expire_if_idle().
    """

    def __init__(
        self,
        pins: EvaluatorPins,
        factory: Factory | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        self._armed_s = pins.armed_s
        self._clock = clock
        self._lock = threading.Lock()
        self._armed_at: float | None = None
        self._listeners: list[RatingListener] = []
        rating_pins = pins.rating_pins()
        labels = {f"evaluator.{rating.label}": pin for rating, pin in rating_pins.items()}
        self._buttons = open_devices(labels, pull_up_button, factory)
        self._led: gpiozero.LED | None = None
        if pins.led is not None:
            try:
                self._led = open_device("evaluator.led", pins.led, gpiozero.LED, factory)
            except Exception:
                close_all(self._buttons.values())
                raise
        for rating in rating_pins:
            button = self._buttons[f"evaluator.{rating.label}"]
            contact = Contact(pins.debounce_ms / 1000, clock)
            button.when_activated = self._on_press(rating, contact)
            button.when_deactivated = contact.release
        log.info("evaluator open with %d buttons", len(rating_pins))

    def on_rating(self, listener: RatingListener) -> None:
        """Call listener with each accepted rating (an int 1-5), on the evaluator's thread."""
        with self._lock:
            self._listeners.append(listener)

    @property
    def armed(self) -> bool:
        """Whether a rating is awaited."""
        with self._lock:
            return self._armed_at is not None

    def arm(self) -> None:
        """Accept one rating from now on and light the please-rate LED."""
        with self._lock:
            self._armed_at = self._clock()
            if self._led is not None:
                self._led.on()
        log.info("evaluator armed for %.0f s", self._armed_s)

    def disarm(self) -> None:
        """Stop accepting a rating and put the LED out."""
        with self._lock:
            self._disarm()

    def expire_if_idle(self, now: float | None = None) -> bool:
        """Disarm if armed for armed_s or longer by `now` (default: the clock); True if it did."""
        with self._lock:
            if self._armed_at is None or not self._expired(now):
                return False
            self._disarm()
        log.info("evaluator: no rating within %.0f s, disarmed", self._armed_s)
        return True

    def close(self) -> None:
        """Put the LED out and release the pins."""
        self.disarm()
        close_all(self._buttons.values())
        if self._led is not None:
            self._led.close()

    def _expired(self, now: float | None) -> bool:
        assert self._armed_at is not None
        return (self._clock() if now is None else now) - self._armed_at >= self._armed_s

    def _disarm(self) -> None:
        self._armed_at = None
        if self._led is not None:
            self._led.off()

    def _on_press(self, rating: Rating, contact: Contact) -> Callable[[], None]:
        def pressed() -> None:
            if contact.press() and self._take(rating):
                self._tell(rating)

        return pressed

    def _take(self, rating: Rating) -> bool:
        """Accept this rating if armed and not timed out; either way the arming is used up."""
        with self._lock:
            if self._armed_at is None:
                log.debug("evaluator: %s pressed while not armed, ignored", rating.label)
                return False
            expired = self._expired(None)
            self._disarm()
        if expired:
            log.info("evaluator: %s pressed after the timeout, ignored", rating.label)
        return not expired

    def _tell(self, rating: Rating) -> None:
        with self._lock:
            listeners = list(self._listeners)
        log.info("evaluator: rated %d", rating)
        for listener in listeners:
            try:
                listener(rating)
            except Exception:
                log.exception("evaluator listener %r failed on %d", listener, rating)
