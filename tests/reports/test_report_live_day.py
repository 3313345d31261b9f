"""The writer's day summed up as it goes on (``LiveDay``: only the visits new events reached
are tallied again) is, after every batch of events, the day summed up from scratch: the same
groups (counts, ratings, distributions to the last bit, pauses) and the same durations."""

from __future__ import annotations

import random
from datetime import date

import pytest
from support.hall import SHANGHAI, hall_config
from support.history_days import play

from hall.report_days import LiveDay, day_groups
from hall.visits import DayFold

CONFIG = hall_config()
MONDAY = date(2026, 11, 23)


@pytest.mark.parametrize("seed", range(4))
def test_a_live_day_is_the_day_summed_up_from_scratch(seed: int) -> None:
    events = play(CONFIG, MONDAY, seed, close=True)  # to its close: every ticket ends
    assert events is not None
    rng = random.Random(seed)
    fold, live = DayFold(MONDAY.isoformat()), LiveDay(SHANGHAI)
    done, checks = 0, 0
    while done < len(events):
        batch = events[done:done + rng.choice([1, 2, 5, 30, 100])]
        for event in batch:
            fold.apply(event)
        done += len(batch)
        groups, values = live.update(fold)
        assert (groups, values) == day_groups(fold, SHANGHAI), done
        checks += 1
    assert checks > 10
    assert live.update(fold) == day_groups(fold, SHANGHAI)  # nothing new: the same
