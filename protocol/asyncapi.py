"""The machine-readable contract: ``protocol/asyncapi.yaml`` (AsyncAPI 3), generated.

    python -m protocol.asyncapi            # write protocol/asyncapi.yaml
    python -m protocol.asyncapi --check    # exit 1 when the file is out of date

Payload schemas are pydantic's JSON schemas of ``messages.py``; the examples and the error
codes' meanings are read from ``protocol/README.md`` (its ```json blocks, each after a
``<!-- model: NAME -->`` or ``<!-- model: Reply to COMMAND -->`` comment, and its table of
error codes), so the human guide and the machine contract cannot drift apart. A reply's
``result`` differs per command; its shapes are the models of ``messages.RESULTS``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from protocol import messages as m

HERE = Path(__file__).resolve().parent
README = HERE / "README.md"
OUTPUT = HERE / "asyncapi.yaml"
SCHEMAS = "#/components/schemas/{model}"


# ---------------------------------------------------------------- the README's examples
@dataclass(frozen=True, slots=True)
class Example:
    """One ```json block of the README and the model its comment names."""

    model: str
    command: str | None  # for a Reply: the command it answers
    text: str
    line: int

    @property
    def payload(self) -> Any:
        return json.loads(self.text)


_EXAMPLE = re.compile(r"<!-- model: (\w+)(?: to (\w+))? -->\n```json\n(.*?)\n```", re.S)
_ERROR_ROW = re.compile(r"^\| `([a-z_]+)` \| (.+?) \| (.+?) \|$", re.M)
_MODELS: list[type[m.Message]] = [
    *m.COMMANDS.values(), m.Reply, m.HallState, m.ServiceState, m.CounterState, m.RecentCalls,
    m.HallSummary, m.CallEvent, m.Alert, m.Presence, m.DeviceHealth]
PAYLOADS: dict[str, type[m.Message]] = {model.__name__: model for model in _MODELS}


def examples(text: str) -> list[Example]:
    """Every marked ```json block of the README, in order."""
    return [Example(found[1], found[2], found[3], text.count("\n", 0, found.start()) + 2)
            for found in _EXAMPLE.finditer(text)]


def error_table(text: str) -> dict[str, tuple[str, str]]:
    """The README's error codes: code -> (meaning, what a device should do)."""
    return {row[1]: (row[2], row[3]) for row in _ERROR_ROW.finditer(text)}


def check_example(example: Example) -> m.Message:
    """Validate an example against its model (and a reply's result against its command's
    result shape); raises ValueError naming the README line."""
    model = PAYLOADS.get(example.model)
    if model is None:
        raise ValueError(f"README line {example.line}: no payload model {example.model!r}")
    try:
        message = m.decode(model, example.text)
        if isinstance(message, m.Reply) and message.ok:
            if example.command not in m.RESULTS:
                raise ValueError(f"a Reply example must name its command, not "
                                 f"{example.command!r}")
            m.result_of(message, example.command)
    except ValueError as exc:
        raise ValueError(f"README line {example.line} ({example.model}): {exc}") from exc
    return message


# ---------------------------------------------------------------- the document
def _schemas(codes: dict[str, tuple[str, str]]) -> dict[str, Any]:
    models: list[type[BaseModel]] = [*PAYLOADS.values(), *m.RESULTS.values()]
    _, found = models_json_schema([(model, "validation") for model in models],
                                  ref_template=SCHEMAS)
    schemas: dict[str, Any] = found["$defs"]
    missing = sorted(set(m.ErrorCode) - set(codes))
    if missing:
        raise ValueError(f"README's error table lacks {', '.join(missing)}")
    schemas["ErrorCode"] = {
        "title": "ErrorCode", "type": "string",
        "description": "Why a command was refused; each value's description says what it "
                       "means and what a device should do.",
        "oneOf": [{"const": code.value, "description":
                   f"{codes[code][0]}. A device should: {codes[code][1]}."}
                  for code in m.ErrorCode]}
    return schemas


def _ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"#/{kind}/{name}"}


_PARAMETERS = {
    "hall": "the hall id, e.g. tianping",
    "device": "a device id (= its broker account and client id), e.g. kiosk-1",
    "service": "a service letter, e.g. A",
    "counter": "a counter id, e.g. 3",
    "nearby": "a nearby centre's hall id",
}


def _channel(address: str, messages: dict[str, str], description: str) -> dict[str, Any]:
    params = re.findall(r"\{(\w+)\}", address)
    return {"address": address, "description": description,
            "parameters": {p: {"description": _PARAMETERS[p]} for p in params},
            "messages": {key: _ref("components/messages", target)
                         for key, target in messages.items()}}


def _message(name: str, payload: dict[str, Any], summary: str,
             found: list[Example], **extra: Any) -> dict[str, Any]:
    message: dict[str, Any] = {"name": name, "title": name, "summary": summary,
                               "contentType": "application/json", "payload": payload, **extra}
    if found:
        message["examples"] = [{"name": f"{name}_{i}", "payload": e.payload}
                               for i, e in enumerate(found, 1)]
    return message


_STATE = [  # channel id, address, model, retained, description
    ("state_hall", "lobby/{hall}/state/hall", "HallState", "the hall: services, counters, hours"),
    ("state_service", "lobby/{hall}/state/service/{service}", "ServiceState",
     "one service's queue"),
    ("state_counter", "lobby/{hall}/state/counter/{counter}", "CounterState",
     "one counter: status, clerk, ticket in hand"),
    ("state_calls", "lobby/{hall}/state/calls", "RecentCalls",
     "the last ten calls, newest first (calls[0] is the current call)"),
    ("state_summary", "lobby/{hall}/state/summary", "HallSummary",
     "aggregate figures, also sent upstream to the city"),
    ("state_nearby", "lobby/{hall}/state/summary/{nearby}", "HallSummary",
     "a nearby centre's summary, brought down by the city bridge"),
]
_EVENTS = [
    ("event_call", "lobby/{hall}/event/call", "CallEvent", "a call or recall as it is made"),
    ("event_alert", "lobby/{hall}/event/alert", "Alert", "an alert for the manager"),
]
_OWN = [  # published by each device, retained
    ("presence", "lobby/{hall}/presence/{device}", "Presence",
     "online / offline (the broker's last will) / stopped"),
    ("health", "lobby/{hall}/health/{device}", "DeviceHealth", "printer paper, card reader"),
]

INFO = """\
How a device (kiosk, counter caller, display, manager, booking system) speaks to a hall's
controller over MQTT 5. Described from the device's side: it sends commands and its own
presence and health, and receives replies, retained state and events. The human guide,
with the same examples, is protocol/README.md.

MQTT 5, QoS 1 throughout; every payload is UTF-8 JSON with "v": 1; unknown keys (and, in
commands, inexact types) are refused; a command over 8192 bytes or nested over 8 deep is refused
unread. State topics are retained full snapshots; events are not retained.

Requests and replies: publish a command to lobby/{hall}/cmd/{device}/{command} with the
MQTT 5 properties Response Topic = lobby/{hall}/reply/{device} (the sender's own; any other
is refused as malformed), Correlation Data = the command id (ASCII), and Message Expiry
Interval = max(1, floor(seconds the sender waits) - 1). The broker drops a command that
expires while waiting, and the controller refuses with "expired" one whose remaining
expiry at receipt, less 0.25 s, ran out before its turn. Command ids are 8-64 characters
of [A-Za-z0-9_-], unique per device: retry with the same id (the stored reply comes back,
nothing runs twice); the same device reusing an id for another command gets "id_reused".
"""


def build(readme: str) -> dict[str, Any]:
    """The AsyncAPI document for the models and the README's examples and error codes."""
    found = examples(readme)
    for example in found:
        check_example(example)
    schemas = _schemas(error_table(readme))
    by_model = {name: [e for e in found if e.model == name and e.command is None]
                for name in PAYLOADS}
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    reply_messages: dict[str, str] = {}
    for name, command in m.COMMANDS.items():
        _command(name, command, found, schemas, channels, operations, messages, reply_messages)
    channels["reply"] = _channel("lobby/{hall}/reply/{device}", reply_messages,
                                 "replies to one device's commands (only it may read them)")
    for action, retained, table in (("receive", True, _STATE), ("receive", False, _EVENTS),
                                    ("send", True, _OWN)):
        for cid, address, model, description in table:
            if model not in messages:
                messages[model] = _message(
                    model, _ref("components/schemas", model),
                    (PAYLOADS[model].__doc__ or model).split("\n")[0], by_model[model])
            channels[cid] = _channel(address, {model: model}, description)
            operations[f"{action}_{cid}"] = {
                "action": action, "channel": _ref("channels", cid),
                "summary": description, "messages": [_ref(f"channels/{cid}/messages", model)],
                "bindings": {"mqtt": {"qos": 1, "retain": retained, "bindingVersion": "0.2.0"}}}
    return {
        "asyncapi": "3.0.0",
        "info": {"title": "Lobby hall protocol", "version": str(m.PROTOCOL_VERSION),
                 "description": INFO},
        "defaultContentType": "application/json",
        "servers": {
            "local": {"host": "127.0.0.1:1883", "protocol": "mqtt", "protocolVersion": "5",
                      "description": "the hall broker, on the controller's machine"},
            "lan": {"host": "{host}:8883", "protocol": "secure-mqtt", "protocolVersion": "5",
                    "description": "the hall broker for devices (TLS; client id = account)",
                    "variables": {"host": {"description": "the hall broker's address"}}}},
        "channels": channels,
        "operations": operations,
        "components": {"schemas": schemas, "messages": messages},
    }


def _command(name: str, model: type[m.Command], found: list[Example], schemas: dict[str, Any],
             channels: dict[str, Any], operations: dict[str, Any], messages: dict[str, Any],
             reply_messages: dict[str, str]) -> None:
    """The channel, operation, request and reply messages of one command."""
    roles = sorted(role.value for role, allowed in m.ALLOWED.items() if name in allowed)
    cid, reply = f"cmd_{name}", f"reply_{name}"
    doc = (model.__doc__ or "").split("\n")[0]
    summary = f"{name} ({', '.join(roles)}){': ' + doc if doc else ''}"
    result = m.RESULTS[name].__name__
    schemas[f"Reply_{name}"] = {"allOf": [_ref("components/schemas", "Reply"), {
        "properties": {"result": {"anyOf": [_ref("components/schemas", result),
                                            {"type": "null"}]}}}]}
    correlation = {"location": "$message.header#/correlationData",
                   "description": "MQTT 5 Correlation Data: the command id, ASCII"}
    messages[name] = _message(
        name, _ref("components/schemas", model.__name__), summary,
        [e for e in found if e.model == model.__name__], correlationId=correlation,
        bindings={"mqtt": {
            "responseTopic": "lobby/{hall}/reply/{device}",
            "correlationData": {"type": "string", "pattern": "^[A-Za-z0-9_-]{8,64}$"},
            "bindingVersion": "0.2.0"}})
    messages[reply] = _message(
        reply, _ref("components/schemas", f"Reply_{name}"), f"the reply to {name}",
        [e for e in found if e.model == "Reply" and e.command == name],
        correlationId=correlation)
    reply_messages[reply] = reply
    channels[cid] = _channel(f"lobby/{{hall}}/cmd/{{device}}/{name}", {name: name},
                             f"the {name} command (request; the reply on reply/{{device}})")
    operations[f"send_{name}"] = {
        "action": "send", "channel": _ref("channels", cid), "summary": summary,
        "messages": [_ref(f"channels/{cid}/messages", name)],
        "reply": {"address": {"location": "$message.header#/responseTopic",
                              "description": "MQTT 5 Response Topic: lobby/{hall}/reply/"
                                             "{device}, the sender's own"},
                  "channel": _ref("channels", "reply"),
                  "messages": [_ref("channels/reply/messages", reply)]},
        "bindings": {"mqtt": {"qos": 1, "retain": False, "messageExpiryInterval": {
            "type": "integer", "minimum": 1,
            "description": "max(1, floor(seconds the sender waits) - 1)"},
            "bindingVersion": "0.2.0"}}}


HEADER = ("# Generated by `python -m protocol.asyncapi` from protocol/messages.py and the\n"
          "# examples and error codes of protocol/README.md. Do not edit: regenerate.\n")


class _Dumper(yaml.SafeDumper):  # type: ignore[misc]
    """Multi-line text as a literal block, as it reads in the source; no anchors."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _text(dumper: yaml.SafeDumper, data: str) -> Any:
    return dumper.represent_scalar("tag:yaml.org,2002:str", data,
                                   style="|" if "\n" in data else None)


_Dumper.add_representer(str, _text)


def render(readme: str | None = None) -> str:
    """The text of asyncapi.yaml."""
    document = build(README.read_text(encoding="utf-8") if readme is None else readme)
    return HEADER + str(yaml.dump(document, Dumper=_Dumper, sort_keys=False,
                                  allow_unicode=True, width=100))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m protocol.asyncapi",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if the file is not what the models and README make")
    parser.add_argument("--output", type=Path, default=OUTPUT, help="default: %(default)s")
    args = parser.parse_args(argv)
    try:
        text = render()
    except ValueError as exc:
        print(f"asyncapi: {exc}", file=sys.stderr)
        return 2
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is out of date: run python -m protocol.asyncapi",
                  file=sys.stderr)
            return 1
        return 0
    args.output.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
