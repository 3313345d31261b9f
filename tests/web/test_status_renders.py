"""A status stream builds its page again only when what the page shows changed, and never
shows a stale one: through a busy, changing day, every page it gives equals the page built
afresh, while most renders (other residents' changes) rebuild nothing."""

from __future__ import annotations

import contextlib
import random
from dataclasses import dataclass
from typing import Any

import pytest
from support.hall import SECRET, hall_config, sign_in, weekday_morning

import web.status
from hall.engine.engine import HallEngine, Refused
from hall.engine.projection import Projection, project
from hallconfig import HallConfig
from web.live import Hub
from web.status import Ranks, StatusRenders, status_view


@dataclass
class View:
    config: HallConfig
    engine: HallEngine
    projection: Projection


def test_a_page_is_rebuilt_only_when_what_it_shows_changed(
        monkeypatch: pytest.MonkeyPatch) -> None:
    clock = weekday_morning()
    engine = sign_in(HallEngine(hall_config(), clock.now().date(), SECRET))
    services = [s.id for s in engine.config.services]
    for n in range(60):
        engine.issue(clock.now(), services[n % len(services)], pending_print=False)
    engine.take_events()
    view = View(engine.config, engine, project(engine, clock.now().timestamp()))
    hub, ranks, rng = Hub(), Ranks(), random.Random(7)
    built = 0

    def counted(*args: Any) -> dict[str, Any]:
        nonlocal built
        built += 1
        return status_view(*args)

    monkeypatch.setattr(web.status, "status_view", counted)
    streams = {token: StatusRenders(view, token, ranks, hub)  # type: ignore[arg-type]
               for token in list(engine.tokens)[:40]}
    renders = 0
    for _ in range(60):
        with contextlib.suppress(Refused):
            engine.call_next(clock.now(), rng.choice(list(engine.desks)))
        engine.take_events()
        clock.advance(rng.uniform(1, 40))
        view.projection = project(engine, clock.now().timestamp())
        hub.notice("state", None)
        for token, render in streams.items():
            ticket = engine.tokens[token]
            assert render() == status_view(view, ticket, Ranks(), hub.version)  # type: ignore[arg-type]
            renders += 1
    assert built < renders / 2  # most changes were someone else's
    assert built > len(streams)  # and pages did change: calls, places, waits
