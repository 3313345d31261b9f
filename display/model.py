"""What a display knows about the hall: retained state and live calls folded into one model.

Pure: no Kivy, no MQTT. The feed hands every inbound message to ``DisplayModel.fold``; the
screens draw pictures made from the model (see ``display.picture``). Calls are kept by
their ``seq``, so the retained RecentCalls a display reads after a restart and the live
CallEvents it hears afterwards merge without duplicates, and only live calls are fresh
(announced and flashed). A retained snapshot older (by business day and ``rev``) than one
already taken for its topic is dropped: a broker restarted from an older save cannot take
the picture back; a live one is always current (a new controller may run on another
journal) and becomes the floor.

The picture is live only once the controller's 'online' or a call has been delivered live
(retain flag off) since the link (re)connected: a broker restarted from an old save hands
back a retained 'online' and old snapshots for a controller that may be down. A live
snapshot alone does not count: a controller (re)connecting publishes every snapshot first,
then 'online', so until then the picture may be part old. The controller republishes its
presence every 10 s, so a display goes live within ~10 s of connecting.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date

from protocol import messages as m
from protocol.topics import CONTROLLER_ID, StateKind, Topic

log = logging.getLogger(__name__)

KEEP_CALLS = 10
FLASH_S = 5.0
FLASH_PERIOD_S = 0.5


@dataclass(frozen=True, slots=True)
class Folded:
    """What one message did to the model: whether the picture changed, and a fresh call."""

    changed: bool
    call: m.CallEvent | None = None


UNCHANGED = Folded(False)
CHANGED = Folded(True)


@dataclass(frozen=True, slots=True)
class HallFacts:
    """Everything the hall told the display, comparable between two displays."""

    hall: m.HallState | None
    services: tuple[m.ServiceState, ...]
    counters: tuple[m.CounterState, ...]
    calls: tuple[m.CallEvent, ...]


@dataclass
class DisplayModel:
    """The hall as one display sees it; ``fold`` each message into it."""

    keep_calls: int = KEEP_CALLS
    flash_s: float = FLASH_S
    hall: m.HallState | None = None
    services: dict[str, m.ServiceState] = field(default_factory=dict)
    counters: dict[str, m.CounterState] = field(default_factory=dict)
    calls: list[m.CallEvent] = field(default_factory=list)  # newest first, unique seq
    link_up: bool = False
    controller_online: bool = False  # its presence (retained or live) says online
    heard_live: bool = False  # a live 'online' or call since the link came up
    missed_calls: int = 0
    stale_dropped: int = 0  # snapshots older than one already taken (a broker's old save)
    revs: dict[Topic, tuple[str, int]] = field(default_factory=dict)  # newest taken per topic
    flash_seq: int = 0
    flash_since: float = float("-inf")

    # ------------------------------------------------------------ folding
    def fold(self, topic: Topic, payload: m.Message | None, now: float,
             retained: bool = False) -> Folded:
        """Take in one message; ``now`` is a monotonic time (for the flash of a fresh call),
        ``retained`` whether the broker handed it back from its store."""
        if topic.section == "presence" and topic.kind == CONTROLLER_ID:
            return self._presence(payload, retained)
        if topic.section == "event" and isinstance(payload, m.CallEvent):
            was_offline = self.offline
            self.heard_live = self.heard_live or not retained
            folded = self._live_call(payload, now)
            return Folded(folded.changed or was_offline != self.offline, folded.call)
        if topic.section == "state":
            if payload is not None and self._older(topic, payload, retained):
                return UNCHANGED
            return self._state(topic, payload)
        return UNCHANGED

    def _presence(self, payload: m.Message | None, retained: bool) -> Folded:
        """The controller's presence: 'online' heard live makes the picture live."""
        was_offline = self.offline
        online = isinstance(payload, m.Presence) and payload.state is m.PresenceState.ONLINE
        if online and not retained:
            self.heard_live = True
        self.controller_online = online
        return Folded(was_offline != self.offline)

    def _older(self, topic: Topic, payload: m.Message, retained: bool) -> bool:
        """True (and dropped) if retained ``payload`` is older than the snapshot taken for
        ``topic``; a live one is current whatever its rev (and becomes the floor)."""
        stamp = _stamp(payload)
        if stamp is None:
            return False
        seen = self.revs.get(topic)
        if retained and seen is not None and stamp < seen:
            self.stale_dropped += 1
            log.warning("dropped a stale %s snapshot: day %s rev %d, already showing rev %d "
                        "of %s", topic.kind, stamp[0], stamp[1], seen[1], seen[0])
            return True
        self.revs[topic] = stamp
        return False

    def set_link(self, up: bool) -> bool:
        """Record the broker link going up or down; True if that changed anything."""
        changed = up != self.link_up
        self.link_up = up
        if changed:
            self.heard_live = False  # live again only after a live message on this link
        if not up:
            self.controller_online = False
        return changed

    def _state(self, topic: Topic, payload: m.Message | None) -> Folded:
        kind = topic.kind
        if kind == StateKind.HALL:
            return self._hall(payload if isinstance(payload, m.HallState) else None)
        if kind == StateKind.CALLS:
            calls = payload.calls if isinstance(payload, m.RecentCalls) else []
            return self._recent(calls)
        if kind == StateKind.SERVICE:
            return _put(self.services, topic.ident, payload, m.ServiceState)
        if kind == StateKind.COUNTER:
            return _put(self.counters, topic.ident, payload, m.CounterState)
        return UNCHANGED

    def _hall(self, hall: m.HallState | None) -> Folded:
        if hall == self.hall:
            return UNCHANGED
        if hall is not None and self.hall is not None and hall.date != self.hall.date:
            log.info("new business day %s: calls of %s cleared", hall.date, self.hall.date)
            self.calls = []
        self.hall = hall
        return CHANGED

    def _recent(self, recent: list[m.CallEvent]) -> Folded:
        """Merge the controller's list of recent calls with what was heard live, by seq."""
        if not recent:
            changed = bool(self.calls)
            self.calls = []
            return Folded(changed)
        if self.calls and _day(self.calls[0]) != _day(recent[0]):
            self.calls = []
        merged = self._merged(recent)
        if merged == self.calls:
            return UNCHANGED
        self.calls = merged
        return CHANGED

    def _live_call(self, call: m.CallEvent, now: float) -> Folded:
        if self.calls and _day(self.calls[0]) != _day(call):
            self.calls = []
        known = {c.seq for c in self.calls}
        if call.seq in known:
            return UNCHANGED
        newest = self.calls[0].seq if self.calls else None
        if newest is not None and call.seq > newest + 1:
            self.missed_calls += call.seq - newest - 1
            log.warning("calls %d to %d never arrived", newest + 1, call.seq - 1)
        self.calls = self._merged([call])
        if self.calls[0].seq == call.seq:
            self.flash_seq = call.seq
            self.flash_since = now
        return Folded(True, call)

    def _merged(self, more: list[m.CallEvent]) -> list[m.CallEvent]:
        by_seq = {c.seq: c for c in self.calls}
        by_seq.update((c.seq, c) for c in more)
        return sorted(by_seq.values(), key=lambda c: c.seq, reverse=True)[: self.keep_calls]

    # ------------------------------------------------------------ reading
    @property
    def offline(self) -> bool:
        """True when the broker or the controller is out of reach, or neither its 'online'
        nor a call has come live since the link came up: the picture may be stale."""
        return not (self.link_up and self.controller_online and self.heard_live)

    @property
    def current(self) -> m.CallEvent | None:
        """The newest call of the day."""
        return self.calls[0] if self.calls else None

    def flashing(self, now: float) -> bool:
        """True while the newest call is still in its flashing seconds."""
        current = self.current
        return (current is not None and current.seq == self.flash_seq
                and now - self.flash_since < self.flash_s)

    def flash_on(self, now: float) -> bool:
        """The blink phase: lit in the first half of each FLASH_PERIOD_S while flashing."""
        if not self.flashing(now):
            return False
        return (now - self.flash_since) % FLASH_PERIOD_S < FLASH_PERIOD_S / 2

    def counter_names_en(self) -> dict[str, str]:
        """Counter id -> English name, from the hall's information."""
        return {c.id: c.name_en for c in self.hall.counters} if self.hall else {}

    def facts(self) -> HallFacts:
        """The hall's state as received, in a fixed order, for comparing two displays."""
        return HallFacts(
            hall=self.hall,
            services=tuple(self.services[k] for k in sorted(self.services)),
            counters=tuple(self.counters[k] for k in sorted(self.counters, key=counter_order)),
            calls=tuple(self.calls),
        )


def _put(store: dict[str, m.M], ident: str, payload: m.Message | None,
         model: type[m.M]) -> Folded:
    if payload is None:
        return Folded(store.pop(ident, None) is not None)
    if not isinstance(payload, model) or store.get(ident) == payload:
        return UNCHANGED
    store[ident] = payload
    return CHANGED


def _stamp(payload: m.Message) -> tuple[str, int] | None:
    """A snapshot's (business day, rev); None for one without (an older controller's)."""
    day = payload.date if isinstance(payload, m.HallState) else getattr(payload, "day", None)
    rev = getattr(payload, "rev", None)
    return None if not isinstance(day, str) or not isinstance(rev, int) else (day, rev)


def _day(call: m.CallEvent) -> date:
    return call.at.date()


def counter_order(counter: str) -> tuple[int, str]:
    """Window 2 before window 10; named windows after numbered ones."""
    return (int(counter), "") if counter.isdigit() else (1 << 30, counter)
