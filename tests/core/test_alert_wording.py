"""Every alert a manager can get reads Chinese first with English beside, names where (the
window and its clerk by name, the device by its role) and says what to do."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from support.hall import SHANGHAI, clerk_of, hall_config

from hall.alerts import AlertBoard
from hall.wording import Wording
from protocol import messages as m

CONFIG = hall_config()
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)
CHINESE = re.compile(r"[\u4e00-\u9fff]")
ACTIONS_ZH = ("请", "建议")
ACTIONS_EN = ("Open", "Check", "Follow up", "Load", "Send", "Sign", "Free", "Ask", "have",
              "Have", "open")


def board() -> AlertBoard:
    return AlertBoard(wording=Wording(CONFIG))


def alerts_of_every_kind() -> dict[m.AlertKind, m.Alert]:
    counter = CONFIG.counters[2]
    clerk = clerk_of(counter.id)
    made: dict[m.AlertKind, m.Alert | None] = {}
    b = board()
    wording = b.wording
    made[m.AlertKind.BAD_RATING] = b.rating(counter.id, "20261123-A012", 1, NOW, clerk)
    made[m.AlertKind.HELP_REQUESTED] = b.help_requested("kiosk-1", NOW)
    made[m.AlertKind.PRINTER] = b.health("kiosk-2", m.DeviceHealth(
        ok=False, printer=m.PrinterHealth.PAPER_OUT,
        detail="SimulatedPrinter: write failed after 0 of 63376 bytes", at=NOW), NOW)
    b.presence("caller-3", m.Presence(state=m.PresenceState.OFFLINE, role=m.Role.CALLER), NOW)
    made[m.AlertKind.DEVICE_OFFLINE] = b._gone(0, NOW + timedelta(seconds=30))[0]
    for kind, text in (
            (m.AlertKind.LONG_WAIT, wording.long_wait("A", 32, 20)),
            (m.AlertKind.PAUSED_TOO_LONG, wording.paused(counter.id, clerk, 25)),
            (m.AlertKind.NO_CLERK, wording.no_clerk(counter.id, 5)),
            (m.AlertKind.LONG_SERVICE, wording.long_service(counter.id, clerk, "A012", 40, 24)),
            (m.AlertKind.STORAGE, wording.storage("database or disk is full")),
            (m.AlertKind.SIGN_IN_LOCKED, wording.sign_in_locked("clerk", clerk))):
        made[kind] = b.raise_(kind, kind.value, text, NOW)
    assert all(a is not None for a in made.values())
    return {k: a for k, a in made.items() if a is not None}


ALERTS = alerts_of_every_kind()


@pytest.mark.parametrize("kind", list(m.AlertKind))
def test_every_kind_reads_chinese_first_then_english_and_says_what_to_do(
        kind: m.AlertKind) -> None:
    text = ALERTS[kind].message
    zh, _, en = text.partition(" / ")
    assert CHINESE.search(zh[:12]), text  # Chinese first
    english = en.split("（技术细节")[0]
    for clerk in CONFIG.clerks:  # a person's name is written as it is
        english = english.replace(clerk.name, "")
    assert english and not CHINESE.search(english), text  # English beside
    assert any(word in zh for word in ACTIONS_ZH), f"no action in Chinese: {text}"
    assert any(word in en for word in ACTIONS_EN), f"no action in English: {text}"


def test_people_and_places_are_named() -> None:
    counter = CONFIG.counters[2]
    clerk_name = next(c.name for c in CONFIG.clerks if c.staff_no == clerk_of(counter.id))
    for kind in (m.AlertKind.BAD_RATING, m.AlertKind.LONG_SERVICE, m.AlertKind.PAUSED_TOO_LONG):
        text = ALERTS[kind].message
        assert counter.name in text and counter.name_en in text and clerk_name in text, text
    assert "A012" in ALERTS[m.AlertKind.BAD_RATING].message
    assert "取号机" in ALERTS[m.AlertKind.PRINTER].message
    assert "缺纸" in ALERTS[m.AlertKind.PRINTER].message
    assert "out of paper" in ALERTS[m.AlertKind.PRINTER].message
    offline = ALERTS[m.AlertKind.DEVICE_OFFLINE].message
    caller_counter = CONFIG.device("caller-3")
    assert caller_counter is not None and caller_counter.counter is not None
    window = next(c for c in CONFIG.counters if c.id == caller_counter.counter)
    assert "呼叫器" in offline and window.name in offline and "caller" in offline
