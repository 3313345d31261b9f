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
import queue
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from protocol import messages as m
from protocol.__main__ import ROLES, read_settings
from protocol.device import DeviceConfigError, DeviceSettings
from protocol.link import LinkError, expiry_for, model_for
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
    """A blocking MQTT 5 connection as the device: every broker answer goes on one queue."""

    def __init__(self, settings: DeviceSettings, role: m.Role, timeout: float) -> None:
        self.topics = HallTopics(settings.device.hall)
        self.device, self.role, self.timeout = settings.device.id, role, timeout
        self.events: queue.Queue[tuple[str, Any, Any]] = queue.Queue()
        self.held: list[tuple[str, Any, Any]] = []
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=self.device,
                                  protocol=mqtt.MQTTv5)
        broker = settings.broker
        if broker.username:
            password = broker.password
            if password is None and broker.password_file is not None:
                with open(broker.password_file, encoding="utf-8") as source:
                    password = source.read().strip()
            self.client.username_pw_set(broker.username, password)
        if broker.tls_ca:
            self.client.tls_set(ca_certs=broker.tls_ca)
        self.client.will_set(self.topics.presence(self.device), self.presence("offline"),
                             qos=1, retain=True)
        self.client.on_connect = lambda _c, _u, _f, code, _p: self._put("connack", None, code)
        self.client.on_subscribe = lambda _c, _u, mid, codes, _p: self._put("suback", mid, codes)
        self.client.on_publish = lambda _c, _u, mid, code, _p: self._put("puback", mid, code)
        self.client.on_message = lambda _c, _u, msg: self._put("message", msg.topic, msg)
        self.host, self.port = broker.host, broker.port

    def _put(self, kind: str, key: Any, value: Any) -> None:
        self.events.put((kind, key, value))

    def presence(self, state: str) -> bytes:
        return m.encode(m.Presence(state=m.PresenceState(state), role=self.role))

    def wait(self, match: Callable[[str, Any, Any], bool], timeout: float | None = None) -> Any:
        """The value of the first event that matches (others are kept), or None."""
        for i, event in enumerate(self.held):
            if match(*event):
                return self.held.pop(i)[2]
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while (left := deadline - time.monotonic()) > 0:
            try:
                event = self.events.get(timeout=left)
            except queue.Empty:
                break
            if match(*event):
                return event[2]
            self.held.append(event)
        return None

    def connect(self) -> Any:
        self.client.connect(self.host, self.port, keepalive=30)
        self.client.loop_start()
        return self.wait(lambda kind, _k, _v: kind == "connack")

    def subscribe(self, topic: str) -> int | None:
        """The SUBACK reason code for one filter (None: no SUBACK in time)."""
        _, mid = self.client.subscribe(topic, qos=1)
        codes = self.wait(lambda kind, key, _v: kind == "suback" and key == mid)
        return None if codes is None else int(codes[0].value)

    def publish(self, topic: str, payload: bytes, retain: bool = False,
                properties: Properties | None = None) -> int | None:
        """The PUBACK reason code (None: no PUBACK in time)."""
        info = self.client.publish(topic, payload, qos=1, retain=retain, properties=properties)
        code = self.wait(lambda kind, key, _v: kind == "puback" and key == info.mid)
        return None if code is None else int(code.value)

    def close(self) -> None:
        self.publish(self.topics.presence(self.device), self.presence("stopped"), retain=True)
        self.client.disconnect()
        self.client.loop_stop()


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
        msg = probe.wait(lambda kind, topic, _m: kind == "message" and topic == controller)
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
    props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
    props.ResponseTopic = reply_topic
    props.CorrelationData = correlation
    props.MessageExpiryInterval = expiry_for(probe.timeout)
    code = probe.publish(probe.topics.command(probe.device, name), b"", properties=props)
    if not report.check(code in (0, 0x10), f"may send {name}", f"PUBACK reason code {code}"):
        return replies
    if not replies:
        return False
    msg = probe.wait(lambda kind, topic, msg: kind == "message" and topic == reply_topic
                     and getattr(msg.properties, "CorrelationData", None) == correlation)
    if not report.check(msg is not None, f"the controller answers {name}",
                        f"no reply within {probe.timeout} s: is the controller running? "
                        f"(the other commands' replies were not awaited)"):
        return False
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
        msg = probe.wait(lambda kind, topic, _m: kind == "message" and "/state/" in topic,
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


def _take(msg: Any, state: dict[str, m.Message], report: Report) -> None:
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
        probe.client.loop_stop()
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
