"""protocol/README.md and protocol/asyncapi.yaml: every example valid, every payload and
error code shown, the generated document up to date and valid for the AsyncAPI parser."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
import yaml

from protocol import asyncapi
from protocol import messages as m
from protocol.identity import id_hash

README = asyncapi.README.read_text(encoding="utf-8")
VALIDATOR = Path(__file__).with_name("validate_asyncapi.cjs")
PARSER = Path(__file__).parents[1] / "web" / "node_modules" / "@asyncapi" / "parser"


def test_every_json_block_of_the_readme_names_its_model() -> None:
    blocks = README.count("```json")
    assert blocks == len(asyncapi.examples(README)), "a ```json block without its model comment"


@pytest.mark.parametrize("example", asyncapi.examples(README),
                         ids=lambda e: f"line{e.line}-{e.model}-{e.command or ''}")
def test_readme_example_is_valid_for_its_model(example: asyncapi.Example) -> None:
    message = asyncapi.check_example(example)
    assert m.decode(type(message), m.encode(message)) == message  # and survives a round trip


def test_readme_shows_every_payload_and_a_reply_of_each_kind_of_result() -> None:
    found = asyncapi.examples(README)
    shown = {e.model for e in found}
    assert shown == set(asyncapi.PAYLOADS), sorted(set(asyncapi.PAYLOADS) ^ shown)
    results = {m.RESULTS[e.command] for e in found if e.command}
    assert results == set(m.RESULTS.values())
    errors = [e for e in found if e.model == "Reply" and not e.payload["ok"]]
    assert errors, "no example of an error reply"


def test_a_wrong_example_is_refused_naming_its_line() -> None:
    bad = README.replace('"waiting":7,"estimated', '"waiting":"seven","estimated')
    wrong = [e for e in asyncapi.examples(bad) if e.model == "ServiceState"]
    with pytest.raises(ValueError, match=rf"README line {wrong[0].line} \(ServiceState\)"):
        asyncapi.check_example(wrong[0])
    reply = README.replace('"result":{"help":"requested"}', '"result":{"help":"sent"}')
    help_reply = [e for e in asyncapi.examples(reply) if e.command == "help"]
    with pytest.raises(ValueError, match="help"):
        asyncapi.check_example(help_reply[0])


def test_readme_explains_every_error_code_once() -> None:
    table = asyncapi.error_table(README)
    assert set(table) == {code.value for code in m.ErrorCode}
    rows = re.findall(r"^\| `([a-z_]+)` \|", README, re.M)
    codes = [r for r in rows if r in table]
    assert len(codes) == len(set(codes))
    assert all(meaning and action for meaning, action in table.values())


def test_id_hash_vector_follows_the_documented_steps() -> None:
    found = re.search(r"<!-- id_hash: secret=(\S+) day=(\S+) number=(\S+) -->\n```text\n"
                      r"([0-9a-f]{64})\n```", README)
    assert found is not None
    secret, day, number, expected = found.groups()
    key = hmac.new(secret.encode(), f"id-hash:{day}".encode(), hashlib.sha256).digest()
    by_the_steps = hmac.new(key, number.strip().upper().encode(), hashlib.sha256).hexdigest()
    assert by_the_steps == expected
    assert id_hash(secret.encode(), date.fromisoformat(day), f" {number} ") == expected


def test_asyncapi_yaml_is_up_to_date(tmp_path: Path) -> None:
    assert asyncapi.main(["--check"]) == 0, "run python -m protocol.asyncapi"
    stale = tmp_path / "asyncapi.yaml"
    stale.write_text(asyncapi.render(README.replace('"waiting":7', '"waiting":8')))
    assert asyncapi.main(["--check", "--output", str(stale)]) == 1
    assert asyncapi.main(["--output", str(stale)]) == 0
    assert asyncapi.main(["--check", "--output", str(stale)]) == 0


def test_asyncapi_has_every_command_state_event_and_error_code() -> None:
    doc = yaml.safe_load(asyncapi.OUTPUT.read_text(encoding="utf-8"))
    operations, messages = doc["operations"], doc["components"]["messages"]
    for name in m.COMMANDS:
        operation = operations[f"send_{name}"]
        assert operation["reply"]["channel"] == {"$ref": "#/channels/reply"}
        assert operation["bindings"]["mqtt"]["qos"] == 1
        assert messages[name]["bindings"]["mqtt"]["responseTopic"] == \
            "lobby/{hall}/reply/{device}"
        assert messages[name]["examples"], f"{name} has no example"
        assert doc["channels"][f"cmd_{name}"]["address"] == f"lobby/{{hall}}/cmd/{{device}}/{name}"
    addresses = {c["address"] for c in doc["channels"].values()}
    assert {"lobby/{hall}/state/hall", "lobby/{hall}/state/service/{service}",
            "lobby/{hall}/state/counter/{counter}", "lobby/{hall}/state/calls",
            "lobby/{hall}/state/summary", "lobby/{hall}/state/summary/{nearby}",
            "lobby/{hall}/event/call", "lobby/{hall}/event/alert",
            "lobby/{hall}/presence/{device}", "lobby/{hall}/health/{device}",
            "lobby/{hall}/reply/{device}"} <= addresses
    codes = doc["components"]["schemas"]["ErrorCode"]["oneOf"]
    assert [c["const"] for c in codes] == [code.value for code in m.ErrorCode]
    for example in asyncapi.examples(README):
        name = example.command and f"reply_{example.command}"
        key = name or (m.COMMAND_NAMES.get(asyncapi.PAYLOADS[example.model])  # type: ignore[arg-type]
                       or example.model)
        assert example.payload in [e["payload"] for e in messages[key]["examples"]]


def _validate(path: Path) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    assert node is not None and PARSER.is_dir(), "scripts/bootstrap --dev installs them"
    return subprocess.run([node, str(VALIDATOR), str(path)], capture_output=True, text=True,
                          timeout=120, check=False)


def test_asyncapi_parser_accepts_the_document() -> None:
    done = _validate(asyncapi.OUTPUT)
    assert done.returncode == 0, done.stdout + done.stderr
    counts = json.loads(done.stdout.strip().splitlines()[-1])
    assert counts["operations"] == len(m.COMMANDS) + 6 + 2 + 2
    assert counts["channels"] == len(m.COMMANDS) + 1 + 6 + 2 + 2


def test_asyncapi_parser_refuses_a_broken_document(tmp_path: Path) -> None:
    doc = yaml.safe_load(asyncapi.OUTPUT.read_text(encoding="utf-8"))
    del doc["components"]["schemas"]["TicketView"]  # still referenced
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump(doc, allow_unicode=True))
    done = _validate(broken)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "TicketView" in done.stdout


def test_every_snapshot_event_and_reply_example_shows_every_field() -> None:
    found = asyncapi.examples(README)
    for name, model in asyncapi.PAYLOADS.items():
        if issubclass(model, m.Command):
            continue  # a caller leaves out its counter: optional fields are described instead
        shown = set().union(*(e.payload.keys() for e in found if e.model == name))
        assert shown == set(model.model_fields), f"{name} examples lack " \
            f"{sorted(set(model.model_fields) - shown)}"
    commands = [e.payload for e in found if issubclass(asyncapi.PAYLOADS[e.model], m.Command)]
    assert any("deadline" in c for c in commands), "no command shows its deadline"
