"""The card-reader interface every driver and simulator implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType

from hardware.idcard.card import CardData


class CardReader(ABC):
    """Something that hands over one card per swipe.

    `read_card` waits up to `timeout` seconds and returns the card, or None when no new
    card came. A card left lying on the reader is returned once, not again and again.
    Failures raise CardReadError (try again) or ReaderNotFound (the device is gone).
    """

    @abstractmethod
    def read_card(self, timeout: float) -> CardData | None:
        """The next card presented within `timeout` seconds, or None."""

    @abstractmethod
    def close(self) -> None:
        """Release the device; safe to call twice."""

    def __enter__(self) -> CardReader:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
