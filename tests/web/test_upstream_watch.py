"""What the tablet says of the upstream link, from the bridge's flag and the summaries in any
order: since when (at the latest, for a flag already set when first seen), which summary went
up, which one waits, a flag heard again unchanged (a reconnection) keeping its time."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from protocol import messages as m
from web.upstream import BridgeWatch

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
UP, DOWN = m.BridgeFlag(connected=True), m.BridgeFlag(connected=False)


def summary(minute: int) -> m.HallSummary:
    return m.HallSummary(hall="tianping", name="天平", name_en="Tianping",
                         at=T0 + timedelta(minutes=minute), counters_open=3,
                         issued_today=minute, served_today=0, services=[])


def at(minute: int) -> datetime:
    return T0 + timedelta(minutes=minute)


def test_never_seen_until_a_flag_comes_and_a_summary_waits_meanwhile() -> None:
    watch = BridgeWatch()
    assert watch.as_json() == {"bridge": "never", "since": None, "since_at_latest": False,
                               "summary_at": None, "sent_at": None, "waiting": False}
    watch.summary(summary(0))
    assert watch.as_json()["waiting"] is True
    assert watch.as_json()["sent_at"] is None
    watch.flag(UP, retained=True, now=at(1))  # already up when this service came
    assert watch.as_json() == {"bridge": "connected", "since": at(1).isoformat(),
                               "since_at_latest": True, "summary_at": at(0).isoformat(),
                               "sent_at": at(0).isoformat(), "waiting": False}


def test_an_outage_keeps_the_last_sent_and_the_waiting_one_goes_up_on_reconnecting() -> None:
    watch = BridgeWatch()
    watch.flag(UP, retained=False, now=at(0))
    watch.summary(summary(1))
    watch.flag(DOWN, retained=False, now=at(2))
    watch.summary(summary(3))
    watch.summary(summary(4))
    shown = watch.as_json()
    assert (shown["bridge"], shown["since"], shown["since_at_latest"]) == (
        "disconnected", at(2).isoformat(), False)
    assert (shown["sent_at"], shown["summary_at"], shown["waiting"]) == (
        at(1).isoformat(), at(4).isoformat(), True)
    watch.flag(DOWN, retained=True, now=at(5))  # heard again (the service reconnected): same
    assert watch.as_json()["since"] == at(2).isoformat()
    assert watch.as_json()["since_at_latest"] is False
    watch.flag(UP, retained=False, now=at(6))
    shown = watch.as_json()
    assert (shown["bridge"], shown["since"], shown["sent_at"], shown["waiting"]) == (
        "connected", at(6).isoformat(), at(4).isoformat(), False)


def test_a_cleared_flag_is_never_seen_again_and_the_last_sent_is_kept() -> None:
    watch = BridgeWatch()
    watch.flag(UP, retained=False, now=at(0))
    watch.summary(summary(1))
    watch.flag(None, retained=False, now=at(2))
    shown = watch.as_json()
    assert (shown["bridge"], shown["since"], shown["sent_at"]) == (
        "never", at(2).isoformat(), at(1).isoformat())
