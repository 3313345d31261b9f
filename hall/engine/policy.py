"""Call-next policies: which waiting ticket a counter takes when its clerk presses next.

A policy only looks at the heads of the queues' lanes, so the same code drives the live
hall and the forward projection behind every wait estimate.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from hall.engine.model import LANES, Desk, Ticket
from protocol.messages import Channel


class QueueView(Protocol):
    """What a policy may see of the queues."""

    def head(self, service: str, lane: Channel) -> Ticket | None: ...

    def reserved(self, counter_id: str) -> Ticket | None: ...

    def waiting(self, service: str) -> int: ...


class Policy(Protocol):
    name: str

    def choose(self, desk: Desk, queues: QueueView, now: float,
               desks: Sequence[Desk], services: Iterable[str]) -> Ticket | None:
        """The ticket ``desk`` should call now, or None when it may serve nobody."""
        ...


def _candidates(desk: Desk, queues: QueueView, services: Iterable[str]) -> list[Ticket]:
    heads = []
    for service in services:
        if desk.serves(service):
            for lane in LANES:
                ticket = queues.head(service, lane)
                if ticket is not None:
                    heads.append(ticket)
    return heads


class Fifo:
    """The oldest ticket the counter may serve, whatever its channel."""

    name = "fifo"

    def choose(self, desk: Desk, queues: QueueView, now: float,
               desks: Sequence[Desk], services: Iterable[str]) -> Ticket | None:
        reserved = queues.reserved(desk.counter_id)
        if reserved is not None:
            return reserved
        heads = _candidates(desk, queues, services)
        return min(heads, key=lambda t: (t.queued_at, t.seq)) if heads else None

    def pick_counter(self, service: str, idle: Sequence[Desk]) -> Desk:
        """The idle counter that takes a new ticket: the one idle longest."""
        return min(idle, key=lambda d: d.since or 0.0)


class Default:
    """Priority with ageing: appointments and the green channel go first, but only by a
    bounded head start, so a walk-in who has waited long enough is never passed over."""

    name = "default"

    def __init__(self, appointment_head_start_min: float = 30.0,
                 green_head_start_min: float = 20.0) -> None:
        self.head_start = {
            Channel.APPOINTMENT: appointment_head_start_min * 60,
            Channel.GREEN: green_head_start_min * 60,
            Channel.NORMAL: 0.0,
        }

    def choose(self, desk: Desk, queues: QueueView, now: float,
               desks: Sequence[Desk], services: Iterable[str]) -> Ticket | None:
        reserved = queues.reserved(desk.counter_id)
        if reserved is not None:
            return reserved
        heads = _candidates(desk, queues, services)
        if not heads:
            return None
        return max(heads, key=lambda t: (now - t.queued_at + self.head_start[t.channel], -t.seq))

    def pick_counter(self, service: str, idle: Sequence[Desk]) -> Desk:
        """The idle counter that takes a new ticket: the one idle longest."""
        return min(idle, key=lambda d: d.since or 0.0)


POLICIES: dict[str, type[Fifo] | type[Default]] = {"fifo": Fifo, "default": Default}


def make_policy(name: str) -> Policy:
    """A policy by name, or ValueError naming the known ones."""
    try:
        return POLICIES[name]()
    except KeyError:
        raise ValueError(f"unknown policy {name!r}; known: {', '.join(POLICIES)}") from None
