"""Targets per service: the long-wait alert uses each service's own wait target, a ticket at
a window longer than its service's target raises long_service (cleared when it ends), and a
bad target is refused naming its key. Driven on the pure engine with a virtual clock."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from support.hall import EXAMPLE_HALL, SECRET, clerk_of, hall_config, sign_in, weekday_morning

from hall.alerts import AlertBoard
from hall.clock import VirtualClock
from hall.engine.engine import HallEngine
from hall.wording import Wording
from hallconfig import ConfigError, HallConfig, load_hall_config
from protocol import messages as m
from protocol.link import new_command_id

CONFIG = hall_config()
SERVICES = [s.id for s in CONFIG.services]


def fresh() -> tuple[HallEngine, AlertBoard, VirtualClock]:
    clock = weekday_morning()
    engine = sign_in(HallEngine(CONFIG, clock.now().date(), SECRET))
    return engine, AlertBoard(wording=Wording(CONFIG)), clock


def kinds(board: AlertBoard, kind: m.AlertKind) -> dict[str, m.Alert]:
    return {subject: a for (k, subject), a in board.active.items() if k is kind}


def specialist(service: str) -> str:
    """A counter that serves ``service`` (a specialist one where there is one)."""
    counters = [c for c in CONFIG.counters if service in c.services] or [
        c for c in CONFIG.counters if "*" in c.services]
    return counters[0].id


def test_the_example_gives_two_services_their_own_targets() -> None:
    rules = CONFIG.rules
    own = {s.id for s in CONFIG.services
           if s.wait_target_min is not None and s.service_target_min is not None}
    assert len(own) == 2
    assert {CONFIG.wait_target(s) for s in own} - {rules.wait_target_min}
    for service in CONFIG.services:
        if service.id not in own:
            assert CONFIG.wait_target(service.id) == rules.wait_target_min
            assert CONFIG.service_target(service.id) == 3 * service.mean_minutes


@pytest.mark.parametrize("service", SERVICES)
def test_long_wait_alerts_at_the_services_own_target(service: str) -> None:
    engine, board, clock = fresh()
    ticket = engine.issue(clock.now(), service)
    engine.printed(clock.now(), ticket.ticket_id)
    target = CONFIG.wait_target(service)
    clock.advance(target * 60 - 1)
    assert board.check_hall(engine, clock.now()) == []
    clock.advance(2)
    raised = board.check_hall(engine, clock.now())
    assert [(a.kind, a.subject) for a in raised] == [(m.AlertKind.LONG_WAIT, service)]
    assert f"target {target:g}" in raised[0].message
    engine.call_next(clock.now(), specialist(service))
    board.check_hall(engine, clock.now())
    assert kinds(board, m.AlertKind.LONG_WAIT) == {}


@pytest.mark.parametrize("service", SERVICES)
def test_long_service_raised_past_the_services_target_and_cleared_when_it_ends(
        service: str) -> None:
    engine, board, clock = fresh()
    ticket = engine.issue(clock.now(), service)
    engine.printed(clock.now(), ticket.ticket_id)
    counter = specialist(service)
    assert engine.call_next(clock.now(), counter) is ticket
    target = CONFIG.service_target(service)
    clock.advance(target * 60 - 1)
    engine.start(clock.now(), counter)
    assert board.check_hall(engine, clock.now()) == []
    clock.advance(2 + 60 * 5)
    raised = board.check_hall(engine, clock.now())
    assert [(a.kind, a.subject) for a in raised] == [(m.AlertKind.LONG_SERVICE, counter)]
    window = next(c for c in CONFIG.counters if c.id == counter)
    clerk = next(c for c in CONFIG.clerks if c.staff_no == clerk_of(counter))
    minutes = round(target + 5)
    assert raised[0].message == (
        f"{window.name}（{clerk.name}）办理 {ticket.number} 已 {minutes} 分钟，超过目标 "
        f"{target:g} 分钟。请了解是否需要协助 / {window.name_en} ({clerk.name}): "
        f"{ticket.number} at the window for {minutes} min, target {target:g}. Ask whether the "
        f"clerk needs help")
    clock.advance(60)
    assert board.check_hall(engine, clock.now()) == []  # raised once while it lasts
    engine.done(clock.now(), counter)
    board.check_hall(engine, clock.now())
    assert kinds(board, m.AlertKind.LONG_SERVICE) == {}


def test_a_called_ticket_not_yet_started_counts_too() -> None:
    engine, board, clock = fresh()
    ticket = engine.issue(clock.now(), "F")
    engine.printed(clock.now(), ticket.ticket_id)
    engine.call_next(clock.now(), specialist("F"))
    clock.advance(timedelta(minutes=CONFIG.service_target("F") + 1).total_seconds())
    raised = board.check_hall(engine, clock.now())
    assert [a.kind for a in raised] == [m.AlertKind.LONG_SERVICE]


def test_long_service_can_be_followed_up() -> None:
    assert m.FollowUpAlert(id=new_command_id(), kind="long_service",
                           subject="3").kind == "long_service"


@pytest.mark.parametrize(("key", "value"), [("wait_target_min", 0), ("service_target_min", -1),
                                            ("wait_target_min", "soon")])
def test_a_bad_target_is_refused_naming_its_key(tmp_path: Path, key: str,
                                                value: object) -> None:
    text = EXAMPLE_HALL.read_text(encoding="utf-8").replace(
        'mean_minutes = 7.0\n', f'mean_minutes = 7.0\n{key} = {value!r}\n'.replace("'", '"'))
    path = tmp_path / "hall.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"services\[1\]\.{key}"):
        load_hall_config(path)


def test_a_service_without_targets_takes_the_halls() -> None:
    raw = CONFIG.model_dump()
    raw["rules"]["wait_target_min"] = 45
    config = HallConfig.model_validate(raw)
    assert config.wait_target("B") == 45
    assert config.wait_target("F") == 10  # its own
