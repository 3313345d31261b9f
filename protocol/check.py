"""Conformance check for a device: does this account work with this hall, as the contract says?

    python -m protocol.check --config DEVICE.toml [--role ROLE] [--timeout SECONDS]

Connects as the device of the settings file ([device] and [broker]; client id = device id,
so stop the real device first: the broker lets one connection per device), with the
device's last will, and says it is online (and stopped at the end). Then it checks:

1. the grants its role needs: each read filter subscribed (SUBACK reason codes), and each
   command of its role published — an empty payload, so the controller refuses it as
   ``malformed`` and runs nothing — expecting PUBACK success and the reply with the same
   correlation data on its reply topic; and one command outside its role, which the broker
   must refuse (PUBACK 0x87). Mosquitto grants any subscription in its SUBACK and then
   delivers only what the account may read, so reads are proven by what arrives: the
   controller's presence, the replies, the retained state;
2. the retained burst: every state snapshot the hall's ``state/hall`` promises, each valid
   for its model;

and prints what a compatible device would show. Exit 0 when all holds, 1 naming each
failure, 2 for a settings file that cannot be used.
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from protocol import messages as m
from protocol.__main__ import ROLES, read_settings
from protocol.device import DeviceConfigError, DeviceSettings
from protocol.link import (
    Ack,
    LinkError,
    NotConnected,
    Received,
    SyncClient,
    expiry_for,
    model_for,
)
from protocol.topics import CONTROLLER_ID, EventKind, HallTopics, StateKind, TopicError, parse

NOT_AUTHORIZED = 0x87
ROLE_NAMES = {**ROLES, "upstream": m.Role.UPSTREAM}


def reads(topics: HallTopics, device: str, role: m.Role) -> list[str]:
    """The filters a device of ``role`` must be able to subscribe to."""
    if role is m.Role.UPSTREAM:
        return [topics.reply(device), topics.state(StateKind.SUMMARY)]
    if role is m.Role.MANAGER:
        return [topics.reply(device), topics.all_state, topics.all_events, topics.all_presence,
                topics.all_health]
    first = topics.event(EventKind.CALL) if role is m.Role.DISPLAY else topics.reply(device)
    return [first, topics.all_state, topics.presence(CONTROLLER_ID)]


@dataclass
class Report:
    """What the check found: one line per check, failures counted."""

    failures: list[str] = field(default_factory=list)

    def check(self, passed: bool, what: str, why: str = "") -> bool:
        print(f"{'ok  ' if passed else 'FAIL'} {what}{'' if passed else ': ' + why}", flush=True)
        if not passed:
            self.failures.append(f"{what}: {why}")
        return passed


class Probe:
    """A blocking MQTT 5 connection as the device, with its last will."""

    def __init__(self, settings: DeviceSettings, role: m.Role, timeout: float) -> None:
        self.topics = HallTopics(settings.device.hall)
        self.device, self.role, self.timeout = settings.device.id, role, timeout
        self.host, self.port = settings.broker.host, settings.broker.port
        self.client = SyncClient(settings.broker, client_id=self.device, timeout=timeout,
                                 keepalive=30, will=(self.topics.presence(self.device),
                                                     self.presence("offline")))

    def presence(self, state: str) -> bytes:
        return m.encode(m.Presence(state=m.PresenceState(state), role=self.role))

    def wait(self, match: Callable[[Received], bool],
             timeout: float | None = None) -> Received | None:
        """The first message not yet taken that matches (taking it), or None."""
        return self.client.wait_for(match, self.timeout if timeout is None else timeout,
                                    take=True)

    def connect(self) -> Ack | None:
        """The CONNACK (None: no answer in time); LinkError when nothing listens."""
        try:
            return self.client.connect()
        except NotConnected as exc:
            if isinstance(exc.__cause__, OSError):
                raise
            return None

    def subscribe(self, topic: str) -> int | None:
        """The SUBACK reason code for one filter (None: no SUBACK in time)."""
        try:
            return self.client.subscribe(topic).value
        except TimeoutError:
            return None

    def publish(self, topic: str, payload: bytes, retain: bool = False, *,
                response_topic: str | None = None, correlation: bytes | None = None,
                expiry: int | None = None) -> int | None:
        """The PUBACK reason code (None: no PUBACK in time)."""
        try:
            return self.client.publish(topic, payload, retain=retain,
                                       response_topic=response_topic, correlation=correlation,
                                       expiry=expiry).value
        except TimeoutError:
            return None

    def close(self) -> None:
        self.publish(self.topics.presence(self.device), self.presence("stopped"), retain=True)
        self.client.close()


def check_grants(probe: Probe, report: Report) -> set[str]:
    """Subscribe the role's filters, see the controller's presence and probe the role's
    commands; the filters the broker granted."""
    topics, device = probe.topics, probe.device
    granted = set()
    for topic in reads(topics, device, probe.role):
        code = probe.subscribe(topic)
        if report.check(code is not None and code < 0x80, f"may subscribe to {topic}",
                        f"SUBACK reason code {code}"):
            granted.add(topic)
    if probe.role is not m.Role.UPSTREAM:
        controller = topics.presence(CONTROLLER_ID)
        msg = probe.wait(lambda msg: msg.topic == controller)
        report.check(msg is not None and b'"online"' in msg.payload,
                     f"the controller is online ({controller})",
                     "nothing arrived" if msg is None else msg.payload.decode(errors="replace"))
    code = probe.publish(topics.presence(device), probe.presence("online"), retain=True)
    report.check(code in (0, 0x10), f"may publish {topics.presence(device)}",
                 f"PUBACK reason code {code}")
    answering = topics.reply(device) in granted  # until a probe goes unanswered
    for name in sorted(m.ALLOWED[probe.role]):
        answering = _probe_command(probe, report, name, answering)
    foreign = sorted(set(m.COMMANDS) - m.ALLOWED[probe.role])
    if foreign:
        code = probe.publish(topics.command(device, foreign[0]), b"")
        report.check(code == NOT_AUTHORIZED, f"may not send {foreign[0]}",
                     f"the broker accepted it (PUBACK {code}): the account is too broad")
    return granted


def _probe_command(probe: Probe, report: Report, name: str, replies: bool) -> bool:
    """Publish an empty ``name`` command; the controller must refuse it as malformed.
    False when its reply did not come (the next probes then wait for none)."""
    correlation = f"check-{uuid.uuid4().hex}".encode()
    reply_topic = probe.topics.reply(probe.device)
    code = probe.publish(probe.topics.command(probe.device, name), b"",
                         response_topic=reply_topic, correlation=correlation,
                         expiry=expiry_for(probe.timeout))
    if not report.check(code in (0, 0x10), f"may send {name}", f"PUBACK reason code {code}"):
        return replies
    if not replies:
        return False
    msg = probe.wait(lambda msg: msg.topic == reply_topic and msg.correlation == correlation)
    if msg is None:
        report.check(False, f"the controller answers {name}",
                     f"no reply within {probe.timeout} s: is the controller running? "
                     f"(the other commands' replies were not awaited)")
        return False
    report.check(True, f"the controller answers {name}")
    try:
        reply = m.decode(m.Reply, msg.payload)
    except m.PayloadError as exc:
        report.check(False, f"the reply to {name} is a Reply", str(exc))
        return True
    code_seen = reply.error.code if reply.error else None
    report.check(code_seen is m.ErrorCode.MALFORMED, f"the controller accepts {name} from "
                 f"{probe.device}", f"it answered {code_seen}: "
                 f"{reply.error.message if reply.error else 'ok'}")
    return True


def follow_burst(probe: Probe, report: Report, granted: set[str]) -> dict[str, m.Message]:
    """The retained state, once complete (or what came before the timeout)."""
    state: dict[str, m.Message] = {}
    wanted = {probe.topics.state(StateKind.SUMMARY)}
    if probe.topics.all_state not in granted and not wanted & granted:
        return state
    deadline = time.monotonic() + probe.timeout
    while not wanted <= set(state) and time.monotonic() < deadline:
        msg = probe.wait(lambda msg: "/state/" in msg.topic,
                         deadline - time.monotonic())
        if msg is None:
            break
        _take(msg, state, report)
        hall = state.get(probe.topics.state(StateKind.HALL))
        if isinstance(hall, m.HallState):
            wanted = _promised(probe.topics, hall)
    missing = sorted(wanted - set(state))
    report.check(not missing, "the retained burst is complete",
                 f"missing after {probe.timeout} s: {', '.join(missing)}")
    return state


def _take(msg: Received, state: dict[str, m.Message], report: Report) -> None:
    try:
        topic = parse(msg.topic)
        model = model_for(topic)
        assert model is not None
        state[msg.topic] = m.decode(model, msg.payload)
    except (TopicError, m.PayloadError) as exc:
        report.check(False, f"{msg.topic} is valid", str(exc))


def _promised(topics: HallTopics, hall: m.HallState) -> set[str]:
    return {topics.state(StateKind.HALL), topics.state(StateKind.CALLS),
            topics.state(StateKind.SUMMARY),
            *(topics.state(StateKind.SERVICE, s.id) for s in hall.services),
            *(topics.state(StateKind.COUNTER, c.id) for c in hall.counters)}


def show(state: dict[str, m.Message]) -> None:
    """What a compatible device would show, from the retained state."""
    order: list[type[m.Message]] = [m.HallState, m.ServiceState, m.CounterState,
                                     m.RecentCalls, m.HallSummary]
    for message in sorted(state.values(), key=lambda s: order.index(type(s))):
        if isinstance(message, m.HallState):
            print(f"hall {message.hall} {message.name} ({message.name_en}), {message.date}, "
                  f"open {message.open_at}-{message.close_at}"
                  + (f", notice: {message.notice}" if message.notice else ""))
        elif isinstance(message, m.ServiceState):
            wait = "wait not yet known" if message.estimated_wait_min is None else \
                f"about {message.estimated_wait_min} min"
            print(f"service {message.service}: {message.waiting} waiting, {wait}, "
                  f"quota left {message.quota_left}, intake "
                  f"{'open' if message.intake_open else 'stopped'}")
        elif isinstance(message, m.CounterState):
            clerk = message.clerk.name if message.clerk else "no clerk"
            print(f"counter {message.counter} {message.name}: {message.status}, {clerk}, "
                  f"{message.number or 'no ticket'}")
        elif isinstance(message, m.RecentCalls):
            current = message.calls[0] if message.calls else None
            print("current call: " + (f"{current.number} to {current.counter_name} "
                                      f"(seq {current.seq})" if current else "none yet"))
        elif isinstance(message, m.HallSummary):
            print(f"summary {message.hall}: {message.counters_open} counters open, "
                  f"{message.issued_today} issued, {message.served_today} served")


def run(settings: DeviceSettings, role: m.Role, timeout: float) -> Report:
    report = Report()
    probe = Probe(settings, role, timeout)
    code = probe.connect()
    where = f"{probe.host}:{probe.port} as {settings.device.id} ({role})"
    if not report.check(code is not None and not code.is_failure, f"connect to {where}",
                        str(code or f"no answer within {timeout} s")):
        return report
    try:
        granted = check_grants(probe, report)
        show(follow_burst(probe, report, granted))
    finally:
        probe.close()
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m protocol.check",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--config", required=True, type=Path,
                        help="the device's settings file")
    parser.add_argument("--role", choices=sorted(ROLE_NAMES),
                        help="the device's role (default: from its id: kiosk-1 is a kiosk, "
                             "upstream the booking system, an id of no role a manager)")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds per answer")
    args = parser.parse_args(argv)
    try:
        settings = read_settings(args.config)
    except DeviceConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return 2
    device = settings.device.id
    role = ROLE_NAMES.get(args.role or device.split("-", 1)[0], m.Role.MANAGER)
    try:
        report = run(settings, role, args.timeout)
    except (OSError, LinkError) as exc:
        print(f"FAIL cannot reach the broker: {exc}", file=sys.stderr)
        return 1
    if report.failures:
        print(f"{len(report.failures)} check(s) failed:", file=sys.stderr)
        for failure in report.failures:
            print(f"  {failure}", file=sys.stderr)
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
