"""`python -m hardware.idcard` run as a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from hardware.idcard import mask_number, sample_card

REPO = Path(__file__).resolve().parents[2]
SAMPLE = sample_card()


def run_tool(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hardware.idcard", *arguments],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_simulated_sam_read_prints_one_masked_json_line() -> None:
    done = run_tool("--simulate", "--once", "--timeout", "5")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert record["id_number"] == mask_number(SAMPLE.id_number)
    assert record["name"] == SAMPLE.name[0] + "*" * (len(SAMPLE.name) - 1)
    assert (record["birth_date"], record["sex"], record["nation"]) == ("1980-05-17", "M", "汉")
    everything = done.stdout + done.stderr
    assert SAMPLE.id_number not in everything
    assert SAMPLE.name not in everything
    assert SAMPLE.address not in everything


def test_show_personal_data_prints_the_full_card() -> None:
    done = run_tool("--simulate", "--once", "--show-personal-data", "--timeout", "5")
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    assert record == {
        "id_number": SAMPLE.id_number,
        "name": SAMPLE.name,
        "sex": "M",
        "nation": "汉",
        "birth_date": "1980-05-17",
        "address": SAMPLE.address,
        "authority": SAMPLE.authority,
        "valid_from": "2020-03-01",
        "valid_until": "2040-03-01",
    }


def test_simulated_line_reader_fills_only_the_number_fields() -> None:
    done = run_tool("--simulate", "--protocol", "line", "--once", "--timeout", "5")
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    assert record["id_number"] == mask_number(SAMPLE.id_number)
    assert (record["name"], record["valid_until"]) == ("", None)


def test_no_card_within_the_timeout_exits_1() -> None:
    done = run_tool("--port", "loop://", "--protocol", "line", "--once", "--timeout", "0.1")
    assert done.returncode == 1
    assert "no card within 0.1 s" in done.stderr
    assert done.stdout == ""


def test_missing_reader_exits_3_with_the_reason() -> None:
    done = run_tool("--port", "/dev/no-such-reader", "--once")
    assert done.returncode == 3
    assert "cannot open ID-card reader port /dev/no-such-reader" in done.stderr


def test_port_or_simulate_is_required() -> None:
    done = run_tool("--once")
    assert done.returncode == 2
    assert "--port" in done.stderr
