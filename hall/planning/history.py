"""The plan's history from the journal: the same weekday of the past weeks, read through a
read-only JournalReader (in the calling thread: run it in a worker)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from hall.journal_reader import JournalReader
from hall.planning.demand import Demand, demand_of
from hall.visits import DayFold
from hallconfig import HallConfig

HISTORY_WEEKS = 8


def past_days(config: HallConfig, day: date, weeks: int = HISTORY_WEEKS) -> list[date]:
    """The same weekday of the past ``weeks`` weeks, newest first, that kept the hours
    ``day`` keeps (a holiday is planned from past holidays' weekdays only, and the other
    way round)."""
    holiday = day in config.hours.holidays
    return [past for past in (day - timedelta(weeks=n) for n in range(1, weeks + 1))
            if (past in config.hours.holidays) == holiday]


def demand_from_journal(reader: JournalReader, config: HallConfig, day: date,
                        weeks: int = HISTORY_WEEKS) -> Demand:
    """The demand of the past same weekdays the journal holds (a day without a ticket,
    before the hall began or shut, is left out)."""
    found = []
    for past in past_days(config, day, weeks):
        hours = config.hours.for_day(past)
        if hours is None:
            continue
        fold = DayFold(past.isoformat())
        reader.each_event(past, fold.apply)
        if fold.visits:
            opened = datetime.combine(past, hours[0], _tz(config)).timestamp()
            found.append((past, opened, list(fold.visits.values())))
    return demand_of(found)


def _tz(config: HallConfig) -> ZoneInfo:
    return ZoneInfo(config.hall.timezone)
