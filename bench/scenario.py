"""Benchmark scenarios: one hall day (or a long steady stretch) read from TOML and validated.

The project's scenarios are in ``bench/scenarios/``, whose README describes the schema. Every
error names the bad key, e.g. ``erlang.toml: arrivals.rate_per_hour: required when
hours.steady_state is true``.
"""

from __future__ import annotations

from datetime import time
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from hallconfig import TimeZoneName, unique_ids
from protocol.device import describe, load_toml_model

HHMM = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="local time HH:MM")]
ServiceId = Annotated[str, Field(pattern=r"^[A-Z]$")]
SHARE_TOLERANCE = 1e-6
SCENARIOS = Path(__file__).resolve().parent / "scenarios"
MAX_BOOKED_HOURS = 23  # a steady run starts at midnight; its slots must fall on that day


class ScenarioError(ValueError):
    """A scenario file that cannot be used; the message names the file and the bad key."""


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ScenarioHours(_Strict):
    open: HHMM | None = None
    close: HHMM | None = None
    steady_state: bool = False
    horizon_hours: float | None = Field(None, gt=0, le=1_000_000)


class Arrivals(_Strict):
    per_day: float | None = Field(None, ge=0)
    rate_per_hour: float | None = Field(None, ge=0)
    profile: list[tuple[HHMM, Annotated[float, Field(ge=0)]]] = []
    appointment_share: float = Field(0.0, ge=0, le=1)
    priority_share: float = Field(0.0, ge=0, le=1)
    no_show_prob: float = Field(0.0, ge=0, lt=1)
    bursts: list[tuple[HHMM, Annotated[int, Field(ge=0)], str]] = []

    @model_validator(mode="after")
    def _shares(self) -> Arrivals:
        if self.appointment_share + self.priority_share > 1:
            raise ValueError("appointment_share + priority_share must not exceed 1")
        times = [start for start, _ in self.profile]
        if times != sorted(times) or len(set(times)) != len(times):
            raise ValueError("profile: times must be strictly increasing")
        return self


class ServiceSpec(_Strict):
    id: ServiceId
    name: str = Field(min_length=1)
    name_en: str = ""
    share: float = Field(ge=0, le=1)
    minutes: float = Field(gt=0, le=600)
    cv: float | None = Field(None, ge=0, le=10)
    dist: Literal["lognormal", "exponential"]

    @model_validator(mode="after")
    def _cv(self) -> ServiceSpec:
        if self.dist == "lognormal" and self.cv is None:
            raise ValueError("cv: required for a lognormal service time")
        return self


class CounterSpec(_Strict):
    id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,40}$")
    services: list[str] = Field(min_length=1)


class BreakSpec(_Strict):
    counters: list[str] = Field(min_length=1)
    start: HHMM
    end: HHMM

    @model_validator(mode="after")
    def _order(self) -> BreakSpec:
        if self.start >= self.end:
            raise ValueError("start must be before end")
        return self


class StaffingSpec(_Strict):
    """Clerks arriving one by one: every counter is open from the start but calls only once
    its clerk signs in, at a moment drawn evenly between ``arrive_from`` and
    ``arrive_until`` (local time; before opening counts as at opening)."""

    arrive_from: HHMM
    arrive_until: HHMM

    @model_validator(mode="after")
    def _order(self) -> StaffingSpec:
        if self.arrive_from > self.arrive_until:
            raise ValueError("arrive_from must not be after arrive_until")
        return self


class Scenario(_Strict):
    """One scenario file, validated, including every cross-reference."""

    name: str = Field(min_length=1)
    description: str = ""
    timezone: TimeZoneName = "Asia/Shanghai"
    hours: ScenarioHours
    arrivals: Arrivals
    services: list[ServiceSpec] = Field(min_length=1)
    counters: list[CounterSpec] = Field(min_length=1)
    breaks: list[BreakSpec] = []
    staffing: StaffingSpec | None = None

    @model_validator(mode="after")
    def _cross_refs(self) -> Scenario:
        self._check_hours()
        if self.staffing is not None and self.hours.steady_state:
            raise ValueError("staffing: clerks arrive on a day scenario, not a steady-state run")
        ids = [s.id for s in self.services]
        unique_ids("services", ids)
        unique_ids("counters", [c.id for c in self.counters])
        total = sum(s.share for s in self.services)
        if abs(total - 1) > SHARE_TOLERANCE:
            raise ValueError(f"services: shares sum to {total:g}, not 1")
        for i, counter in enumerate(self.counters):
            for sid in counter.services:
                if sid != "*" and sid not in ids:
                    raise ValueError(f"counters[{i}].services: unknown service {sid!r}")
        for spec in self.services:
            if spec.share > 0 and not any(_serves(c, spec.id) for c in self.counters):
                raise ValueError(f"services: no counter serves {spec.id!r}")
        known = {c.id for c in self.counters}
        for i, pause in enumerate(self.breaks):
            for cid in pause.counters:
                if cid not in known:
                    raise ValueError(f"breaks[{i}].counters: unknown counter {cid!r}")
        for i, (_, _, service) in enumerate(self.arrivals.bursts):
            if service != "*" and service not in ids:
                raise ValueError(f"arrivals.bursts[{i}]: unknown service {service!r}")
        return self

    def _check_hours(self) -> None:
        hours, arrivals = self.hours, self.arrivals
        if hours.steady_state:
            if hours.horizon_hours is None:
                raise ValueError("hours.horizon_hours: required when hours.steady_state is true")
            if arrivals.rate_per_hour is None:
                raise ValueError("arrivals.rate_per_hour: required when hours.steady_state is true")
            if arrivals.appointment_share > 0 and hours.horizon_hours > MAX_BOOKED_HOURS:
                raise ValueError(f"arrivals.appointment_share: a hall books slots for one day; "
                                 f"a steady-state run with appointments may last at most "
                                 f"{MAX_BOOKED_HOURS} hours")
            return
        if hours.open is None or hours.close is None:
            raise ValueError("hours.open, hours.close: required for a day scenario")
        if hours.open >= hours.close:
            raise ValueError("hours: open must be before close")
        if arrivals.per_day is None:
            raise ValueError("arrivals.per_day: required for a day scenario")

    @property
    def steady(self) -> bool:
        return self.hours.steady_state

    @property
    def open_time(self) -> time:
        return time.fromisoformat(self.hours.open or "00:00")

    @property
    def close_time(self) -> time:
        return time.fromisoformat(self.hours.close or "23:59")

    def pooled(self) -> Scenario:
        """The same day with every counter comprehensive (the full-pooling bound)."""
        counters = [CounterSpec(id=c.id, services=["*"]) for c in self.counters]
        return self.model_copy(update={"counters": counters, "name": f"{self.name} (pooled)"})


def _serves(counter: CounterSpec, service: str) -> bool:
    return "*" in counter.services or service in counter.services


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file, raising ScenarioError that names the bad key."""
    return load_toml_model(path, Scenario, ScenarioError)


def scenario_path(name: str | Path) -> Path:
    """A scenario file given by its path, or by its name in ``bench/scenarios/``."""
    path = Path(name)
    if path.exists() or path.suffix or len(path.parts) > 1:
        return path
    named = SCENARIOS / f"{name}.toml"
    if named.exists():
        return named
    known = ", ".join(sorted(p.stem for p in SCENARIOS.glob("*.toml")))
    raise ScenarioError(f"{name}: no such file, nor a scenario of that name in "
                        f"bench/scenarios ({known})")


def parse_scenario(raw: dict[str, object], source: str = "scenario") -> Scenario:
    """Validate an already-parsed scenario table."""
    try:
        return Scenario.model_validate(raw)
    except ValidationError as exc:
        raise ScenarioError(f"{source}: {describe(exc)}") from exc
