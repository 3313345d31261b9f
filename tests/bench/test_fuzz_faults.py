"""bench.fuzz and bench.faults, short: the command line runs against a real broker and a
real controller process and ends with one JSON object of the documented shape; and the
hostile payloads cover every role, every command topic and every kind."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.hostile import DEVICES, MAX_PAYLOAD, UNKNOWN_COMMANDS, WEIGHTS, cases
from protocol import messages as m
from protocol.topics import HallTopics, parse

ROOT = Path(__file__).resolve().parents[2]
FAULT_KEYS = {"lost", "duplicated", "double_called", "ghost", "recovered_s",
              "other_devices_p99_ms"}


def _run(*args: str) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-m", *args, "--json"], cwd=ROOT,
                          capture_output=True, text=True, timeout=150)
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    assert {"cpus", "python", "machine"} <= set(result["machine"])
    return result


def test_fuzz_answers_or_counts_every_payload() -> None:
    result = _run("bench.fuzz", "--payloads", "300", "--stall-s", "3", "--quiet-s", "2")
    assert list(result)[:7] == ["payloads", "answered", "worker_alive", "internal_errors",
                                "state_changed_by_refused", "log_bytes",
                                "journal_rows_added"]
    assert result["payloads"] == 300
    assert result["refused_by_broker"] + result["reached_controller"] == 300
    assert result["answered"] + result["unanswered"] == 300
    # a display may send no command at all: the broker refuses whatever it tries
    assert result["refused_by_broker"] > 0
    assert result["valid_after"]["sent"] == 12
    assert result["worker_alive"] is True
    assert result["answered"] == result["payloads"] and result["unanswered"] == 0
    assert result["internal_errors"] == 0
    assert result["accepted_invalid"] == 0
    assert result["foreign_replies"] == 0
    assert result["state_changed_by_refused"] == 0


def test_faults_report_every_figure() -> None:
    result = _run("bench.faults", "--faults", "controller-kill,takeover", "--stop-s", "1",
                  "--settle-s", "0.5", "--cap-s", "20")
    assert set(result["faults"]) == {"controller-kill", "takeover"}
    for figures in result["faults"].values():
        assert set(figures) >= FAULT_KEYS
        assert figures["commands"] > 0
    killed = result["faults"]["controller-kill"]
    assert killed["recovered_s"] is not None  # the restarted controller answers again
    # kill -9 under traffic: what was told survives, nothing is given or called twice
    assert (killed["lost"], killed["duplicated"], killed["double_called"]) == (0, 0, 0)
    for name, figures in result["faults"].items():
        assert (figures["ghost"], figures["diverged"]) == (0, 0), name


def test_hostile_payloads_cover_every_role_topic_and_kind() -> None:
    drawn = list(cases(random.Random(7), 20_000, [("kiosk-1", "issue", "0123456789abcdef")]))
    topics = HallTopics("tianping")
    assert {c.kind for c in drawn} == set(WEIGHTS)
    assert {DEVICES[c.device][0] for c in drawn} == {
        m.Role.KIOSK, m.Role.CALLER, m.Role.DISPLAY, m.Role.MANAGER, m.Role.UPSTREAM}
    for role in {DEVICES[c.device][0] for c in drawn}:
        sent = {c.command for c in drawn if DEVICES[c.device][0] is role}
        assert m.ALLOWED[role] <= sent, role
    assert set(m.COMMANDS) | set(UNKNOWN_COMMANDS) <= {c.command for c in drawn}
    assert any(c.topic_device != c.device for c in drawn)
    for case in drawn:
        assert len(case.payload) <= MAX_PAYLOAD
        assert parse(topics.command(case.topic_device, case.command)).section == "cmd"
