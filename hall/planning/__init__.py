"""The manager's morning plan: how many windows of each kind to open hour by hour so that
every service meets its wait target, from the past same weekdays' history, rehearsed on the
hall's own engine. Pure: no MQTT, no web; the journal is read through a JournalReader."""

from hall.planning.demand import Demand, PastArrival, demand_of
from hall.planning.planner import Plan, SlotPlan, plan_day
from hall.planning.rehearse import WindowKind, meets, rehearse, window_kinds

__all__ = ["Demand", "PastArrival", "Plan", "SlotPlan", "WindowKind", "demand_of", "meets",
           "plan_day", "rehearse", "window_kinds"]
