"""Hostile command payloads for bench.fuzz: each a valid command of the topic's name bent
one way (nesting, lone surrogates, numbers, types, keys, versions, ids, sizes), sent as a
device of every role over its own and others' command topics.

A case says whether any correct controller must refuse it (``must_refuse``); reused ids
and a missing ``v`` are left to the controller's judgement."""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from broker_config.generate import MAX_PACKET_SIZE
from protocol import messages as m

DEVICES: dict[str, tuple[m.Role, str | None]] = {
    "kiosk-1": (m.Role.KIOSK, None), "kiosk-2": (m.Role.KIOSK, None),
    "caller-1": (m.Role.CALLER, "1"), "caller-2": (m.Role.CALLER, "2"),
    "display-lobby": (m.Role.DISPLAY, None), "manager": (m.Role.MANAGER, None),
    "upstream": (m.Role.UPSTREAM, None)}
MAX_PAYLOAD = MAX_PACKET_SIZE - 2048  # room for the topic and the MQTT 5 properties
UNKNOWN_COMMANDS = ("hack", "issue_ticket", "x" * 40, "call_next_")
HASH = "ab" * 32
TICKET = "20200101-Z999"
_SENTINEL = "\x00HOLE\x00"


@dataclass(frozen=True, slots=True)
class Case:
    kind: str
    device: str  # the account and client that sends it
    topic_device: str  # the device named in the topic (another's, to test the ACL)
    command: str
    payload: bytes
    must_refuse: bool = True
    properties: str = "both"  # both | no_correlation | no_response_topic | foreign_response
    reuses: tuple[str, str, str] | None = None  # (device, command, id) whose id it reuses


def new_id() -> str:
    return uuid.uuid4().hex


def valid_body(name: str, device: str) -> dict[str, Any]:
    """A command ``name`` that ``device`` could send, with a fresh id."""
    role, counter = DEVICES.get(device, (m.Role.MANAGER, None))
    body: dict[str, Any] = {"v": 1, "id": new_id(), **_FIELDS.get(name, {})}
    model = m.COMMANDS.get(name)
    if model is not None and issubclass(model, m.CounterCommand) and role is not m.Role.CALLER:
        body["counter"] = counter or "3"
    return body


_FIELDS: dict[str, dict[str, Any]] = {
    "issue": {"service": "A"}, "lookup": {"id_hash": HASH}, "printed": {"ticket": TICKET},
    "void": {"ticket": TICKET, "reason": "fuzz"}, "transfer": {"to_service": "B"},
    "sign_in": {"staff_no": "S999", "pin": "0000"}, "evaluate": {"rating": 5},
    "set_counter_services": {"services": ["*"]}, "set_intake": {"service": "Z", "open": True},
    "set_notice": {"text": "fuzz"}, "cancel": {"ticket": TICKET}, "reprint": {"ticket": TICKET},
    "move": {"ticket": TICKET, "to_service": "B"},
    "book": {"id_hash": HASH, "service": "Z", "slot": "2026-11-24T10:00:00+08:00"},
    "follow_up": {"kind": "long_wait", "subject": "Z", "note": ""}}
# Fields that hold text (anything else is a bool, a number or a list)
_TEXT = {"id", "service", "id_hash", "ticket", "reason", "counter", "to_service", "staff_no",
         "pin", "text", "kind", "subject", "note", "slot"}


def _dump(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8", "surrogatepass")


def _hole(body: dict[str, Any], rng: random.Random, raw: str) -> bytes:
    """``body`` with one field's JSON value replaced by the literal text ``raw``."""
    key = rng.choice(sorted(body))
    return _dump({**body, key: _SENTINEL}).replace(
        json.dumps(_SENTINEL).encode(), raw.encode("utf-8", "surrogatepass"))


def _nesting(body: dict[str, Any], rng: random.Random) -> bytes:
    depth = rng.choices([64, 200, 1000, 5000, 20000, MAX_PAYLOAD // 2 - 64],
                        [30, 30, 20, 15, 4, 1])[0]
    opener, closer = rng.choice([("[", "]"), ('{"a":', "}")])
    inner = opener * depth + ("1" if opener != "[" else "") + closer * depth
    if rng.random() < 0.5:
        return inner.encode()
    return _hole(body, rng, inner)


def _surrogate(body: dict[str, Any], rng: random.Random) -> bytes:
    bad = rng.choice(["\\ud800", "\\udfff", "\\ud83d", "\\udc00\\ud800", "a\\ud800b"])
    where = rng.random()
    if where < 0.4:
        return _dump(body).replace(body["id"].encode(), bad.encode())
    if where < 0.6:
        return _dump(body)[:-1] + f',"{bad}":1}}'.encode()
    if where < 0.8:
        raw = rng.choice([b"\xed\xa0\x80", b"\xff\xfe", b"\xc0\xaf", b"\x80"])
        return _dump(body).replace(body["id"].encode(), body["id"].encode()[:8] + raw)
    return _hole(body, rng, f'"{bad}"')


def _number(body: dict[str, Any], rng: random.Random) -> bytes:
    digits = rng.choices([20, 400, 5000, 100_000], [60, 30, 9, 1])[0]
    raw = rng.choice(["1" * digits, "-" + "9" * digits, "1e400", "-1e400", "1e-400", "NaN",
                      "Infinity", "-Infinity", "-0", "0." + "0" * digits + "1", "1.0e+999999"])
    return _hole(body, rng, raw)


def _wrong_type(body: dict[str, Any], rng: random.Random) -> bytes:
    loose = {"v": [True, "1", 1.0], "rating": ["5", 5.5, True], "green": [0, 1, "true"],
             "open": [0, 1, "false"], "print_on_kiosk": [0, "yes"], "appointment": [1, "no"]}
    key = rng.choice(sorted(body))
    if key in loose and rng.random() < 0.6:
        value: Any = rng.choice(loose[key])
    elif key in _TEXT:
        value = rng.choice([0, 12345678, 1.5, True, [], {}, [body[key]], {"a": body[key]}])
    else:
        value = rng.choice(["x", "", [], {}, [1], 3.7])
    return _dump({**body, key: value})


def _unknown_key(body: dict[str, Any], rng: random.Random) -> bytes:
    key = rng.choice(["x", "__proto__", "constructor", "Id", "v ", "", "𝓍", "k" * 1000,
                      "id_hash2", "result", "ok"])
    return _dump({**body, key: rng.choice([1, "x", None, [], {"a": [1]}])})


def _bad_version(body: dict[str, Any], rng: random.Random) -> bytes:
    return _dump({**body, "v": rng.choice([0, 2, -1, "1", "v1", 1.5, 10**20, [], None, {}])})


def _missing(body: dict[str, Any], rng: random.Random) -> bytes:
    """Without one field that has no default (or without ``v``: a case left open)."""
    gone = rng.choice([k for k in body if k not in ("counter", "note", "to_service")])
    return _dump({k: v for k, v in body.items() if k != gone})


def _bad_id(body: dict[str, Any], rng: random.Random) -> bytes:
    bad = rng.choice(["", "short", "a" * 65, "a/b+c#d", "../../etc", "id with space",
                      "ＩＤ１２３４５６７８", "\x00" * 8, "a" * 1000, "abcdefgh\n"])
    return _dump({**body, "id": bad})


def _huge(body: dict[str, Any], rng: random.Random) -> bytes:
    size = rng.choice([10_000, 100_000, MAX_PAYLOAD - 200])
    if rng.random() < 0.3:
        return _dump({**body, "pad": [1] * (size // 2)})[:MAX_PAYLOAD]
    key = rng.choice([k for k in body if k in _TEXT])
    return _dump({**body, key: "字" * (size // 3)})


def _tiny(body: dict[str, Any], rng: random.Random) -> bytes:
    return rng.choice([b"", b"{", b"}", b"0", b"null", b"[]", b'""', b"{}", b'{"v":1}',
                       b" ", b"\n", b'{"id":null}', b"\xef\xbb\xbf{}"])


def _garbage(body: dict[str, Any], rng: random.Random) -> bytes:
    if rng.random() < 0.5:
        return rng.randbytes(rng.randint(1, 2000))
    text = _dump(body)
    return text[:rng.randint(0, len(text) - 1)]


def _not_object(body: dict[str, Any], rng: random.Random) -> bytes:
    return json.dumps(rng.choice([[body], list(body.values()), body["id"], 1, True, None,
                                  [[[]]], "{}"])).encode()


def _semantic(body: dict[str, Any], rng: random.Random) -> bytes:
    """Valid in form, refused by the hall: unknown service, ticket, counter, clerk."""
    wrong = {**body}
    for key, value in (("service", "Z"), ("to_service", "Z"), ("ticket", TICKET),
                       ("staff_no", "S999")):
        if key in wrong:
            wrong[key] = value
    if "counter" in wrong:
        wrong["counter"] = "99"
    return _dump(wrong)


MUTATORS: dict[str, Callable[[dict[str, Any], random.Random], bytes]] = {
    "deep_nesting": _nesting, "lone_surrogate": _surrogate, "numbers": _number,
    "wrong_type": _wrong_type, "unknown_key": _unknown_key, "bad_version": _bad_version,
    "missing_field": _missing, "bad_id": _bad_id, "huge": _huge, "tiny": _tiny,
    "garbage": _garbage, "not_object": _not_object, "semantic": _semantic}
WEIGHTS = {"deep_nesting": 6, "lone_surrogate": 10, "numbers": 9, "wrong_type": 16,
           "unknown_key": 8, "bad_version": 8, "missing_field": 8, "bad_id": 6, "huge": 0.4,
           "tiny": 4, "garbage": 4, "not_object": 4, "semantic": 8, "reuse": 5}
# Commands whose valid form has a refusal-proof semantic variant; the rest get a type error
_SEMANTIC_OK = {"issue", "printed", "void", "cancel", "reprint", "move", "set_intake", "book",
                "sign_in", "transfer"}
REUSABLE = ("issue", "lookup", "help", "set_notice")


def cases(rng: random.Random, count: int, pool: list[tuple[str, str, str]],
          only: set[str] | None = None) -> Iterator[Case]:
    """``count`` hostile cases (of the kinds in ``only``, if given); ``pool`` holds
    (device, command, id) of commands already answered, whose ids the reuse cases borrow."""
    kinds, weights = zip(*((k, w) for k, w in WEIGHTS.items() if only is None or k in only),
                         strict=True)
    names = sorted(m.COMMANDS)
    for _ in range(count):
        device = rng.choice(sorted(DEVICES))
        role, _counter = DEVICES[device]
        allowed = sorted(m.ALLOWED[role])
        topic_device = device
        if allowed and rng.random() < 0.85:
            name = rng.choice(allowed)
        elif rng.random() < 0.7:
            name = rng.choice(names + list(UNKNOWN_COMMANDS))
        else:
            name = rng.choice(allowed or names)
            topic_device = rng.choice([d for d in DEVICES if d != device] + ["ghost-device"])
        kind = rng.choices(kinds, weights)[0]
        props = "both"
        if rng.random() < 0.06:
            props = rng.choice(["no_correlation", "no_response_topic", "foreign_response"])
        yield _case(rng, kind, device, topic_device, name, props, pool)


def _case(rng: random.Random, kind: str, device: str, topic_device: str, name: str,
          props: str, pool: list[tuple[str, str, str]]) -> Case:
    body = valid_body(name, device)
    if kind == "reuse" and pool and name in REUSABLE and props == "both":
        owner, owner_name, cid = rng.choice(pool)
        if (owner, owner_name) != (device, name):
            return Case(kind, device, topic_device, name, _dump({**body, "id": cid}),
                        must_refuse=False, reuses=(owner, owner_name, cid))
    if kind in ("reuse", "semantic") and name not in _SEMANTIC_OK:
        kind = "wrong_type"
    if kind == "reuse":
        kind = "semantic"
    payload = MUTATORS[kind](body, rng)[:MAX_PAYLOAD]
    must_refuse = not (kind == "missing_field" and not payload.startswith(b'{"v"'))
    return Case(kind, device, topic_device, name, payload, must_refuse, props)
