"""The what-if rehearses a pickled copy of the engine in a worker process: a projected engine
(its policy's constants holding the projection's compiled plans, mypyc classes on a Pi)
must pickle and come back projecting the same."""

from __future__ import annotations

import pickle

from support.hall import SECRET, hall_config, sign_in, weekday_morning

from hall.engine.engine import HallEngine
from hall.engine.projection import project


def test_a_projected_engine_pickles_and_projects_the_same() -> None:
    clock = weekday_morning()
    engine = sign_in(HallEngine(hall_config(), clock.now().date(), SECRET))
    for n in range(40):
        engine.issue(clock.now(), "ABCDEFG"[n % 7], pending_print=False)
    now = clock.now().timestamp()
    before = project(engine, now)
    copy = pickle.loads(pickle.dumps(engine, pickle.HIGHEST_PROTOCOL))
    after = project(copy, now)
    assert after.starts == before.starts and after.starts
