"""MQTT topics of a hall: the only place that builds or parses them.

Layout (``H`` is the hall id, ``D`` a device id):

- ``lobby/H/cmd/D/COMMAND``   a device's request (MQTT 5 response topic + correlation data)
- ``lobby/H/reply/D``          replies to device D
- ``lobby/H/state/KIND[/ID]``  retained snapshots (hall, service/ID, counter/ID, calls, summary)
- ``lobby/H/state/summary/N``  a nearby centre N's summary, brought in by the city bridge
- ``lobby/H/event/KIND``       events, not retained (call, alert)
- ``lobby/H/presence/D``       retained online/offline/stopped, with a last will
- ``lobby/H/health/D``         retained device health (printer paper, reader)
- ``city/H/bridge``             the city bridge's up/down flag, retained by Mosquitto on the
                                 hall's own broker too ("1" or "0"; Topic section "bridge")
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

ROOT = "lobby"
CITY_ROOT = "city"
BRIDGE = "bridge"  # the Topic section of the city bridge's flag
CONTROLLER_ID = "controller"
_ID = r"[A-Za-z0-9_-]{1,40}"
_ID_RE = re.compile(rf"^{_ID}$")


class StateKind(StrEnum):
    """Kinds of retained state snapshot."""

    HALL = "hall"
    SERVICE = "service"
    COUNTER = "counter"
    CALLS = "calls"
    SUMMARY = "summary"
    ALERTS = "alerts"  # the manager's board (not granted to kiosks, callers or displays)


class EventKind(StrEnum):
    """Kinds of non-retained event."""

    CALL = "call"
    ALERT = "alert"


class TopicError(ValueError):
    """A topic that is not one of ours, or an id that cannot be part of one."""


def check_id(value: str, what: str = "id") -> str:
    """Return ``value`` if it can stand as one topic level, else raise TopicError."""
    if not _ID_RE.match(value):
        raise TopicError(f"{what} {value!r} must be 1-40 letters, digits, '-' or '_'")
    return value


@dataclass(frozen=True, slots=True)
class Topic:
    """A parsed topic: its section (cmd, reply, state, event, presence, health) and parts."""

    hall: str
    section: str
    kind: str = ""
    ident: str = ""

    @property
    def nearby(self) -> str:
        """The nearby centre whose summary this topic carries; "" for any other topic."""
        if self.section == "state" and self.kind == StateKind.SUMMARY:
            return self.ident
        return ""

    def __str__(self) -> str:
        if self.section == BRIDGE:
            return CityTopics.bridge(self.hall)
        return "/".join(p for p in (ROOT, self.hall, self.section, self.kind, self.ident) if p)


_TOPIC_RE = re.compile(
    rf"^{ROOT}/(?P<hall>{_ID})/(?:"
    rf"(?P<cmd>cmd)/(?P<dev>{_ID})/(?P<command>[a-z_]{{1,40}})"
    rf"|(?P<single>reply|presence|health)/(?P<sdev>{_ID})"
    rf"|(?P<state>state)/(?P<skind>hall|calls|summary|alerts)"
    rf"|(?P<state2>state)/(?P<skind2>service|counter|summary)/(?P<sid>{_ID})"
    rf"|(?P<event>event)/(?P<ekind>call|alert)"
    r")$"
)


def parse(topic: str) -> Topic:
    """Parse a topic string into a Topic, or raise TopicError naming it."""
    m = _TOPIC_RE.match(topic)
    if not m:
        raise TopicError(f"not a lobby topic: {topic!r}")
    g = m.groupdict()
    hall = g["hall"]
    if g["cmd"]:
        return Topic(hall, "cmd", g["dev"], g["command"])
    if g["single"]:
        return Topic(hall, g["single"], g["sdev"])
    if g["state"]:
        return Topic(hall, "state", g["skind"])
    if g["state2"]:
        if g["skind2"] == StateKind.SUMMARY and g["sid"] == hall:
            raise TopicError(f"not a lobby topic: {topic!r} (a hall is not its own neighbour)")
        return Topic(hall, "state", g["skind2"], g["sid"])
    return Topic(hall, "event", g["ekind"])


def parse_local(topic: str) -> Topic:
    """Parse a topic of a hall's own broker: a lobby topic, or the city bridge's flag
    ``city/H/bridge`` (section "bridge"); TopicError naming anything else."""
    city = CityTopics.parse(topic)
    if city is not None and city[1] == BRIDGE:
        return Topic(city[0], BRIDGE)
    return parse(topic)


@dataclass(frozen=True, slots=True)
class HallTopics:
    """Builds every topic and subscription filter of one hall."""

    hall: str

    def __post_init__(self) -> None:
        check_id(self.hall, "hall id")

    @property
    def base(self) -> str:
        return f"{ROOT}/{self.hall}"

    def command(self, device: str, command: str) -> str:
        return f"{self.base}/cmd/{check_id(device, 'device id')}/{command}"

    def reply(self, device: str) -> str:
        return f"{self.base}/reply/{check_id(device, 'device id')}"

    def state(self, kind: StateKind, ident: str = "") -> str:
        if kind in (StateKind.SERVICE, StateKind.COUNTER):
            return f"{self.base}/state/{kind}/{check_id(ident, kind.value + ' id')}"
        return f"{self.base}/state/{kind}"

    def nearby(self, neighbour: str) -> str:
        """Where a nearby centre's summary arrives over the city bridge (never this hall's)."""
        if check_id(neighbour, "nearby hall id") == self.hall:
            raise TopicError(f"hall {self.hall!r} cannot be its own nearby centre")
        return f"{self.base}/state/{StateKind.SUMMARY}/{neighbour}"

    def event(self, kind: EventKind) -> str:
        return f"{self.base}/event/{kind}"

    @property
    def bridge(self) -> str:
        """The city bridge's up/down flag, as Mosquitto also keeps it on this hall's broker."""
        return CityTopics.bridge(self.hall)

    def presence(self, device: str) -> str:
        return f"{self.base}/presence/{check_id(device, 'device id')}"

    def health(self, device: str) -> str:
        return f"{self.base}/health/{check_id(device, 'device id')}"

    # Subscription filters
    @property
    def everything(self) -> str:
        return f"{self.base}/#"

    @property
    def all_commands(self) -> str:
        return f"{self.base}/cmd/+/+"

    @property
    def all_state(self) -> str:
        return f"{self.base}/state/#"

    @property
    def all_services(self) -> str:
        return f"{self.base}/state/{StateKind.SERVICE}/+"

    @property
    def all_nearby(self) -> str:
        return f"{self.base}/state/{StateKind.SUMMARY}/+"

    @property
    def all_events(self) -> str:
        return f"{self.base}/event/+"

    @property
    def all_presence(self) -> str:
        return f"{self.base}/presence/+"

    @property
    def all_health(self) -> str:
        return f"{self.base}/health/+"


_CITY_TOPIC_RE = re.compile(
    rf"^{CITY_ROOT}/(?P<hall>{_ID})/(?P<kind>state/summary|bridge)$")


class CityTopics:
    """The city broker's topics (kept beside the hall's own in protocol.topics' style)."""

    root = CITY_ROOT
    everything = f"{CITY_ROOT}/#"
    all_summaries = f"{CITY_ROOT}/+/state/summary"
    all_bridges = f"{CITY_ROOT}/+/bridge"

    @staticmethod
    def summary(hall: str) -> str:
        return f"{CITY_ROOT}/{hall}/state/summary"

    @staticmethod
    def bridge(hall: str) -> str:
        return f"{CITY_ROOT}/{hall}/{BRIDGE}"

    @staticmethod
    def summary_out(hall: str) -> tuple[str, str, str]:
        """How a hall's bridge sends its summary up, as Mosquitto's ``topic PATTERN out QOS
        LOCAL REMOTE`` reads it: (pattern, local prefix, remote prefix); each prefix joined
        to the pattern is the whole topic on its side."""
        topics = HallTopics(hall)
        local = f"{topics.base}/"
        pattern = topics.state(StateKind.SUMMARY)[len(local):]
        return pattern, local, f"{CITY_ROOT}/{hall}/"

    @staticmethod
    def parse(topic: str) -> tuple[str, str] | None:
        """(hall, "summary" | "bridge") of a city topic, or None for anything else."""
        found = _CITY_TOPIC_RE.match(topic)
        if found is None:
            return None
        return found["hall"], BRIDGE if found["kind"] == BRIDGE else "summary"
