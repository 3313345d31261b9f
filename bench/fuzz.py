"""Hostile payloads over every command topic as every role, against the real controller
process on a real Mosquitto; then valid commands, which must still be answered.

``python -m bench.fuzz [--payloads N] [--seed S] --json``

- payloads: hostile payloads sent (bench/hostile.py says what they are)
- answered: those that got an answer: the broker's refusal (PUBACK "not authorized") or the
  controller's reply
- worker_alive: every valid command sent after the fuzz was answered
- internal_errors: replies with error code ``internal``
- state_changed_by_refused: journal events committed with a refused command, plus hostile
  payloads that must be refused but were accepted (``accepted_invalid``)
- log_bytes, journal_rows_added: the controller's log growth and rows added to its journal
- foreign_replies: a device given a reply meant for another device's or command's id
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from bench.hallrig import HALL, Rig, make_rig
from bench.hostile import DEVICES, WEIGHTS, Case, cases, valid_body
from bench.journal_view import read_journal
from bench.machine import machine
from broker_config.process import MosquittoProcess
from protocol import messages as m
from protocol.link import Ack, Link, LinkError, Received, SyncClient, new_command_id
from protocol.topics import HallTopics

WINDOW = 64  # payloads the controller may owe an answer at once
TOPICS = HallTopics(HALL)
SEEDS: list[tuple[str, str, dict[str, Any]]] = [
    ("kiosk-1", "issue", {}), ("kiosk-1", "issue", {"service": "B"}),
    ("kiosk-1", "lookup", {}), ("kiosk-2", "issue", {"service": "C"}), ("kiosk-2", "help", {}),
    ("caller-1", "sign_in", {"staff_no": "S001", "pin": "1234"}),
    ("manager", "set_notice", {}), ("manager", "issue", {"service": "D",
                                                          "print_on_kiosk": False})]


@dataclass
class Sent:
    case: Case
    passed: bool | None = None  # the broker took it (True) or refused it (False)
    reply: dict[str, Any] | None = None
    reply_device: str = ""


@dataclass
class Tracker:
    """Every payload sent and what came back, fed by the clients' network threads."""

    cond: threading.Condition = field(default_factory=threading.Condition)
    sent: list[Sent] = field(default_factory=list)
    by_mid: dict[tuple[str, int], int] = field(default_factory=dict)
    early_acks: dict[tuple[str, int], int] = field(default_factory=dict)
    unacked: int = 0
    awaiting: int = 0  # taken by the broker, correlated, not yet replied to
    no_correlation_sent: Counter[str] = field(default_factory=Counter)
    no_correlation_replies: Counter[str] = field(default_factory=Counter)
    events: int = 0

    def published(self, device: str, mid: int, sent: Sent) -> None:
        with self.cond:
            self.sent.append(sent)
            self.unacked += 1
            code = self.early_acks.pop((device, mid), None)
            if code is None:
                self.by_mid[(device, mid)] = len(self.sent) - 1
            else:
                self._acked(len(self.sent) - 1, code)

    def acked(self, device: str, mid: int, code: int) -> None:
        with self.cond:
            index = self.by_mid.pop((device, mid), None)
            if index is None:
                self.early_acks[(device, mid)] = code
            else:
                self._acked(index, code)

    def _acked(self, index: int, code: int) -> None:
        sent = self.sent[index]
        sent.passed = code < 0x80
        self.unacked -= 1
        if sent.passed and sent.case.properties == "no_correlation":
            self.no_correlation_sent[sent.case.device] += 1
        elif sent.passed and sent.reply is None:
            self.awaiting += 1
        self.events += 1
        self.cond.notify_all()

    def replied(self, device: str, correlation: bytes | None, raw: bytes) -> None:
        try:
            reply = json.loads(raw)
        except ValueError:
            reply = {"unreadable": raw[:200].decode("utf-8", "replace")}
        with self.cond:
            index = _index(correlation)
            if index is None or index >= len(self.sent):
                self.no_correlation_replies[device] += 1
            else:
                sent = self.sent[index]
                if sent.passed and sent.reply is None:
                    self.awaiting -= 1
                sent.reply = reply if isinstance(reply, dict) else {"odd": reply}
                sent.reply_device = device
            self.events += 1
            self.cond.notify_all()

    def owed(self, stalled: bool) -> int:
        """Answers still owed (only the broker's, once the controller has stalled)."""
        if stalled:
            return self.unacked
        late = sum(max(0, n - self.no_correlation_replies[d])
                   for d, n in self.no_correlation_sent.items())
        return self.unacked + self.awaiting + late


def _index(correlation: bytes | None) -> int | None:
    if correlation is None or not correlation.startswith(b"fz-"):
        return None
    try:
        return int(correlation[3:])
    except ValueError:
        return None


class FuzzClient:
    """One device's raw MQTT 5 connection: publishes anything, reads its reply topic."""

    def __init__(self, broker: MosquittoProcess, device: str, tracker: Tracker) -> None:
        self.device = device
        self.tracker = tracker
        self.client = SyncClient(broker.broker_settings(device, lan=True),  # devices: the LAN
                                 client_id=device, timeout=10, keepalive=30,
                                 reconnect_s=(1, 1), follow=[TOPICS.reply(device)],
                                 on_message=self._on_message, on_ack=self._on_ack)
        reason = self.client.connect()
        if reason.is_failure:
            raise RuntimeError(f"{device} could not connect: {reason}")

    def _on_ack(self, mid: int, ack: Ack) -> None:
        self.tracker.acked(self.device, mid, ack.value)

    def _on_message(self, msg: Received) -> None:
        self.tracker.replied(self.device, msg.correlation, msg.payload)

    def send(self, case: Case, index: int) -> None:
        response_topic = None
        if case.properties != "no_response_topic":
            other = "kiosk-2" if self.device != "kiosk-2" else "kiosk-1"
            response_topic = TOPICS.reply(
                other if case.properties == "foreign_response" else self.device)
        correlation = None
        if case.properties != "no_correlation":
            correlation = f"fz-{index}".encode()
        mid = self.client.send(TOPICS.command(case.topic_device, case.command), case.payload,
                               response_topic=response_topic, correlation=correlation)
        self.tracker.published(self.device, mid, Sent(case))

    def close(self) -> None:
        self.client.close()


def fuzz(rig: Rig, count: int, seed: int, stall_s: float, quiet_s: float,
         kinds: set[str] | None = None) -> dict[str, Any]:
    tracker = Tracker()
    clients = {d: FuzzClient(rig.broker, d, tracker) for d in DEVICES}
    try:
        pool = _seed(clients, tracker, quiet_s)
        seeded = len(tracker.sent)
        log_before, journal_before = _size(rig.log), read_journal(rig.journal)
        began = time.monotonic()
        stalled_at = _send_all(clients, tracker, cases(random.Random(seed), count, pool, kinds),
                               stall_s)
        _drain(tracker, quiet_s)
        seconds = time.monotonic() - began
    finally:
        for client in clients.values():
            client.close()
    journal_after = read_journal(rig.journal)
    result = _tally(tracker.sent[seeded:], tracker, tracker.sent[:seeded])
    refused_events = (journal_after.events_with_refusals()
                      - journal_before.events_with_refusals())
    result.update({
        "kinds": sorted(kinds) if kinds else "all",
        "state_changed_by_refused": refused_events + result["accepted_invalid"],
        "events_with_refusals": refused_events,
        "log_bytes": _size(rig.log) - log_before,
        "journal_rows_added": journal_after.rows - journal_before.rows,
        "first_stall_after_payload": stalled_at, "fuzz_s": round(seconds, 1)})
    return result


def _seed(clients: dict[str, FuzzClient], tracker: Tracker,
          wait_s: float) -> list[tuple[str, str, str]]:
    """Valid commands first (resent with the same ids until the controller, still starting,
    answers them), so that hostile ones can reuse their ids."""
    bodies = [(device, name, {**valid_body(name, device), **extra})
              for device, name, extra in SEEDS]
    deadline = time.monotonic() + max(wait_s, 30.0)
    while time.monotonic() < deadline:
        for device, name, body in bodies:
            case = Case("seed", device, device, name, json.dumps(body).encode(), False)
            clients[device].send(case, len(tracker.sent))
        with tracker.cond:
            if tracker.cond.wait_for(lambda: _answered_ids(tracker) >= {
                    b["id"] for _, _, b in bodies}, 2.0):
                break
    return [(s.case.device, s.case.command, json.loads(s.case.payload)["id"])
            for s in tracker.sent if s.reply is not None]


def _answered_ids(tracker: Tracker) -> set[str]:
    return {json.loads(s.case.payload)["id"] for s in tracker.sent if s.reply is not None}


def _send_all(clients: dict[str, FuzzClient], tracker: Tracker, hostile: Any,
              stall_s: float) -> int | None:
    """Send every case, keeping at most WINDOW answers owed; the index at which the
    controller stopped answering for ``stall_s``, if it did."""
    stalled_at: int | None = None
    for case in hostile:
        with tracker.cond:
            last, seen = time.monotonic(), tracker.events
            while tracker.owed(stalled_at is not None) >= WINDOW:
                tracker.cond.wait(0.2)
                if tracker.events != seen:
                    last, seen = time.monotonic(), tracker.events
                elif time.monotonic() - last > stall_s and stalled_at is None:
                    stalled_at = len(tracker.sent)
            index = len(tracker.sent)
        clients[case.device].send(case, index)
    return stalled_at


def _drain(tracker: Tracker, quiet_s: float) -> None:
    """Wait for the answers still owed, until none has arrived for ``quiet_s``."""
    with tracker.cond:
        while tracker.owed(False) > 0:
            if not tracker.cond.wait_for(partial(_moved, tracker, tracker.events), quiet_s):
                return


def _moved(tracker: Tracker, seen: int) -> bool:
    return tracker.events != seen


def _tally(hostile: list[Sent], tracker: Tracker, seeds: list[Sent]) -> dict[str, Any]:
    owners = {json.loads(s.case.payload)["id"]: s.reply for s in seeds if s.reply}
    broker_refused = sum(1 for s in hostile if s.passed is False)
    replied = sum(1 for s in hostile if s.reply is not None)
    no_corr = sum(min(n, tracker.no_correlation_replies[d])
                  for d, n in tracker.no_correlation_sent.items())
    unanswered = [s for s in hostile if s.passed is None or (
        s.passed and s.reply is None and s.case.properties != "no_correlation")]
    internal = [s for s in hostile if _code(s.reply) == "internal"]
    accepted = [s for s in hostile if s.case.must_refuse and s.reply and s.reply.get("ok")]
    foreign = [s for s in hostile if s.reply is not None and (
        s.reply_device != s.case.device or _owners_reply(s, owners))]
    first = next((s for s in unanswered if s.passed), None)
    return {"payloads": len(hostile), "answered": broker_refused + replied + no_corr,
            "refused_by_broker": broker_refused,
            "reached_controller": sum(1 for s in hostile if s.passed),
            "unanswered": len(hostile) - broker_refused - replied - no_corr,
            "internal_errors": len(internal), "accepted_invalid": len(accepted),
            "foreign_replies": len(foreign),
            "unanswered_by_kind": _kinds(unanswered), "internal_by_kind": _kinds(internal),
            "accepted_invalid_by_kind": _kinds(accepted),
            "first_unanswered": None if first is None else {
                "kind": first.case.kind, "device": first.case.device,
                "command": first.case.command, "payload": repr(first.case.payload[:80])},
            "examples": {k: repr(found[0].case.payload[:80]) for k, found in
                         (("internal", internal), ("accepted_invalid", accepted),
                          ("foreign_reply", foreign)) if found},
            "reply_codes": dict(Counter(_code(s.reply) or "ok" for s in hostile
                                        if s.reply is not None).most_common())}


def _owners_reply(sent: Sent, owners: dict[str, dict[str, Any]]) -> bool:
    """A reused id answered with the owner's reply: a reply to another command, or the
    owner's ticket (the same command from another device may well earn the same answer)."""
    if sent.case.reuses is None:
        return False
    _device, command, cid = sent.case.reuses
    owner = owners.get(cid)
    if owner is None or sent.reply != owner:
        return False
    return command != sent.case.command or "ticket" in (owner.get("result") or {})


def _code(reply: dict[str, Any] | None) -> str | None:
    error = (reply or {}).get("error")
    return str(error.get("code")) if isinstance(error, dict) else None


def _kinds(sent: list[Sent]) -> dict[str, int]:
    return dict(Counter(s.case.kind for s in sent).most_common())


async def valid_commands(broker: MosquittoProcess, timeout: float) -> dict[str, int]:
    """Valid commands from a kiosk, a counter and the manager after the fuzz, all at once:
    how many were answered, and how many were accepted."""
    links = {d: Link(broker.broker_settings(d, lan=True), HALL, d, r)
             for d, r in (("kiosk-1", m.Role.KIOSK), ("caller-1", m.Role.CALLER),
                          ("manager", m.Role.MANAGER))}
    commands: list[tuple[str, str, m.Command]] = []
    for n in range(4):
        commands += [("kiosk-1", "issue", m.IssueTicket(id=new_command_id(), service="ABCD"[n])),
                     ("manager", "set_notice", m.SetNotice(id=new_command_id(), text=f"v{n}")),
                     ("caller-1", "call_next", m.CallNext(id=new_command_id()))]

    async def one(device: str, name: str, command: m.Command) -> m.Reply | None:
        try:
            return await links[device].request(name, command, timeout=timeout)
        except LinkError:
            return None

    try:
        for link in links.values():
            await link.start()
        replies = await asyncio.gather(*(one(*c) for c in commands))
    finally:
        for link in links.values():
            await link.close()
    return {"sent": len(commands), "answered": sum(r is not None for r in replies),
            "ok": sum(r is not None and r.ok for r in replies)}


def _size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


def run(workdir: Path, payloads: int, seed: int, stall_s: float = 10.0,
        quiet_s: float = 5.0, kinds: set[str] | None = None) -> dict[str, Any]:
    rig = make_rig(workdir)
    try:
        result = fuzz(rig, payloads, seed, stall_s, quiet_s, kinds)
        valid = asyncio.run(valid_commands(rig.broker, timeout=max(quiet_s, 3.0)))
        result["valid_after"] = valid
        result["worker_alive"] = valid["answered"] == valid["sent"]
        result["process_alive"] = rig.controller.alive
    finally:
        rig.close()
    keys = ["payloads", "answered", "worker_alive", "internal_errors",
            "state_changed_by_refused", "log_bytes", "journal_rows_added"]
    ordered = {k: result.pop(k) for k in keys}
    return {**ordered, **result, "seed": seed, "machine": machine()}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.fuzz", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--payloads", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--stall-s", type=float, default=10.0,
                        help="no answer for this long: the controller has stopped answering")
    parser.add_argument("--quiet-s", type=float, default=5.0,
                        help="at the end, wait this long for late answers")
    parser.add_argument("--kinds", help=f"only these, comma-separated: {', '.join(WEIGHTS)}")
    parser.add_argument("--json", action="store_true", help="end with one JSON line")
    args = parser.parse_args()
    kinds = set(args.kinds.split(",")) if args.kinds else None
    if kinds and kinds - set(WEIGHTS):
        parser.error(f"unknown kinds {sorted(kinds - set(WEIGHTS))}")
    with tempfile.TemporaryDirectory(prefix="lobby-fuzz-") as tmp:
        result = run(Path(tmp), args.payloads, args.seed, args.stall_s, args.quiet_s, kinds)
    if not args.json:
        for key, value in result.items():
            print(f"{key:>26}: {value}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
