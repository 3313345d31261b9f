"""The controller's committed events, kept compact (hall/committed.py): read back exactly as
they were added as the journal's rows, in order, across blocks, and folding them rebuilds
the same engine."""

from __future__ import annotations

from datetime import date

from support.hall import SECRET, hall_config

from hall.committed import BLOCK, CommittedEvents
from hall.engine.engine import HallEngine
from hall.engine.events import ClerkSignedIn, Event, TicketIssued, to_row
from protocol.messages import Channel


def _events(count: int) -> list[Event]:
    events = [Event.of(1_795_000_000.0, ClerkSignedIn(counter="1", staff_no="S001",
                                                      by="manager"))]
    events += [Event.of(1_795_000_000.0 + n / 3, TicketIssued(
        ticket=f"20261123-A{n:03d}", service="A", channel=Channel.GREEN if n % 5 else
        Channel.NORMAL, id_hash="ab" * 32 if n % 2 else None, slot=None, pending=n % 3 == 0,
        kiosk="kiosk-1")) for n in range(1, count)]
    return events


def test_every_event_comes_back_as_it_went_in_across_blocks() -> None:
    for count in (0, 1, BLOCK - 1, BLOCK, BLOCK + 1, 3 * BLOCK + 7):
        events = _events(count)
        kept = CommittedEvents()
        for start in range(0, len(events), 100):
            kept.extend(map(to_row, events[start:start + 100]))
        assert len(kept) == len(events)
        assert list(kept) == events
        assert list(kept) == events  # reading does not consume


def test_folding_the_kept_events_rebuilds_the_same_engine() -> None:
    config, day = hall_config(), date(2026, 11, 23)
    direct, rebuilt = HallEngine(config, day, SECRET), HallEngine(config, day, SECRET)
    kept = CommittedEvents()
    events = _events(2 * BLOCK)
    kept.extend(map(to_row, events))
    for event in events:
        direct.apply(event)
    for event in kept:
        rebuilt.apply(event)
    assert [(t.ticket_id, t.status, t.channel, t.id_hash, t.issued_at) for t in
            direct.tickets.values()] == [(t.ticket_id, t.status, t.channel, t.id_hash,
                                          t.issued_at) for t in rebuilt.tickets.values()]
    assert {s: q.size for s, q in direct.queues.items()} == {
        s: q.size for s, q in rebuilt.queues.items()}
