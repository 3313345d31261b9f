"""A window's caller never goes back to a retained counter snapshot older (business day, rev)
than one it has taken: a broker restarted from an older save hands such snapshots back. Nor
does it take the controller as up on the save's retained 'online' alone: only once it has
heard the controller live since its link came up."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from caller.session import CounterSession, Lights
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
        session.see_counter(state, retained=True)
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
    assert session.see_counter(offered, retained=True) is taken
    assert number(session) == (offered.number if taken else "A003")


def test_a_live_snapshot_is_believed_at_any_rev() -> None:
    """A controller on another journal (restored, or a test's) publishes lower revs: what it
    publishes live is current; only retained ones below the floor are the broker's old save."""
    session = window(snapshot("A003", 12))
    assert session.see_counter(snapshot("A001", 2))
    assert not session.see_counter(snapshot("A002", 1), retained=True)
    assert number(session) == "A001"


def test_a_retained_online_alone_does_not_light_the_window() -> None:
    session = window(snapshot("A003", 12))
    assert not session.controller_up and session.lights is Lights.OFFLINE


@pytest.mark.parametrize("live", ["presence", "snapshot", "reply"])
def test_the_controller_heard_live_lights_the_window(live: str) -> None:
    session = window(snapshot("A003", 12))
    if live == "presence":
        session.see_controller(ONLINE)
    elif live == "snapshot":
        session.see_counter(snapshot("A003", 12))
    else:
        session.see_counter(snapshot("A003", 12), from_reply=True)
    assert session.controller_up and session.lights is Lights.SERVING


def test_a_reconnect_is_not_up_again_until_the_controller_is_heard_live() -> None:
    session = window(snapshot("A003", 12))
    session.see_controller(ONLINE)
    assert session.controller_up
    session.see_link(False)
    session.see_link(True)
    session.see_controller(ONLINE, retained=True)
    session.see_counter(snapshot("A003", 12), retained=True)
    assert not session.controller_up
    session.see_controller(ONLINE)
    assert session.controller_up
    session.see_controller(STOPPED)
    assert not session.controller_up
