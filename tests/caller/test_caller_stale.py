"""A window's caller never goes back to a counter snapshot older (business day, rev) than
one it has taken: a broker restarted from an older save hands such snapshots back."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from caller.session import CounterSession
from protocol import messages as m

AT = datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
ONLINE = m.Presence(state=m.PresenceState.ONLINE, role=m.Role.CONTROLLER)
STOPPED = m.Presence(state=m.PresenceState.STOPPED, role=m.Role.CONTROLLER)


def snapshot(number: str, rev: int, day: str | None = "2026-11-23") -> m.CounterState:
    return m.CounterState(counter="3", name="3号窗口", status=m.CounterStatus.OPEN,
                          services=["*"], ticket=f"20261123-{number}", number=number,
                          ticket_status=m.TicketStatus.CALLED, updated=AT, day=day, rev=rev)


def window(*taken: m.CounterState) -> CounterSession:
    session = CounterSession("3", new_id=lambda: "command-0001")
    session.see_link(True)
    session.see_controller(ONLINE, retained=True)
    for state in taken:
        session.see_counter(state)
    return session


def number(session: CounterSession) -> str | None:
    return session.state.number if session.state else None


@pytest.mark.parametrize(("offered", "taken"), [
    (snapshot("A002", 11), False),  # older rev, same day
    (snapshot("A002", 12), True),  # same rev: the same state sent again
    (snapshot("A004", 13), True),
    (snapshot("A009", 500, "2026-11-22"), False),  # yesterday, however high its rev
    (snapshot("A001", 0, "2026-11-24"), True),  # a new day starts again at 0
    (snapshot("A002", 0, None), True),  # a controller that sends no rev: not comparable
])
def test_a_retained_snapshot_older_than_the_one_taken_is_dropped(
        offered: m.CounterState, taken: bool) -> None:
    session = window(snapshot("A003", 12))
    assert session.see_counter(offered) is taken
    assert number(session) == (offered.number if taken else "A003")


def test_a_controller_heard_coming_online_live_is_believed_at_any_rev() -> None:
    """Its journal may be another (restored, or a test's): live 'online' resets the floor,
    a retained one (the broker's old save) does not."""
    session = window(snapshot("A003", 12))
    session.see_link(False)
    session.see_link(True)
    session.see_controller(ONLINE, retained=True)
    assert not session.see_counter(snapshot("A002", 11))
    session.see_controller(STOPPED)
    session.see_controller(ONLINE)
    assert session.see_counter(snapshot("A001", 2))
    assert number(session) == "A001"
