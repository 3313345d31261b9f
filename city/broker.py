"""The upstream link of the halls (全市通办): the city broker's setup and each hall's bridge.

    python -m city.broker city --halls tianping,xuhui --out /etc/lobby/city \\
        [--nearby nearby.toml]
    python -m city.broker bridge --hall hall.toml --conf /etc/lobby/broker/mosquitto.conf \\
        --city-host city.example --city-port 8883 --city-credentials city/credentials.toml

The city broker gets one account per hall, ``bridge-<hall>``, that may write exactly two
topics: ``city/<hall>/state/summary`` and ``city/<hall>/bridge`` (the bridge's up/down flag),
plus a read-only ``overview`` account. A hall's bridge forwards only its retained summary,
remapped from ``lobby/<hall>/`` to ``city/<hall>/`` (Mosquitto joins prefix and pattern:
local ``lobby/<hall>/state/summary`` becomes remote ``city/<hall>/state/summary``), at QoS 1.
The summary holds aggregate figures only (protocol.messages.HallSummary): nothing personal
can go upstream, because nothing else is bridged.

Coming down, each hall's bridge brings the summaries of its nearest centres (``[city] nearby``
in the hall config) for its kiosks' idle screens: ``city/<n>/state/summary`` becomes
``lobby/<hall>/state/summary/<n>`` (pattern ``""``: the prefixes are the whole topics). The
city lets ``bridge-<hall>`` read exactly those summaries, from the neighbour map given to
``city --nearby FILE``, a TOML file of ``hall = ["n1", "n2"]`` lines.

``bridge`` appends the bridge block to a generated mosquitto.conf (replacing an earlier one);
run it again after each ``python -m broker_config.generate``, which rewrites that file.
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from string import Template

from broker_config.accounts import Access, Account, Grant, render_acl
from broker_config.credentials import (
    Credential,
    new_password,
    password_for,
    read_credentials,
    read_passwd,
    render_credentials,
    render_passwd,
    write_atomic,
)
from broker_config.errors import BrokerConfigError, CredentialsError
from city.overview import OVERVIEW_USER
from hallconfig import MAX_NEARBY, ConfigError, load_hall_config
from protocol.messages import Role
from protocol.topics import CityTopics, HallTopics, TopicError, check_id

BRIDGE_BEGIN = "# ---- city bridge (全市通办): written by python -m city.broker bridge"
BRIDGE_END = "# ---- end of city bridge"
CITY_NAME = "city"
_BLOCK = re.compile(rf"\n*{re.escape(BRIDGE_BEGIN)}.*?{re.escape(BRIDGE_END)}\n?", re.S)


def bridge_user(hall: str) -> str:
    return f"bridge-{check_id(hall, 'hall id')}"


def check_nearby(hall: str, nearby: Iterable[str]) -> list[str]:
    """A hall's nearby centres as a list, or BrokerConfigError naming what is wrong."""
    found: list[str] = []
    for neighbour in nearby:
        try:
            check_id(neighbour, f"hall {hall}'s nearby hall id")
        except TopicError as exc:
            raise BrokerConfigError(str(exc)) from None
        if neighbour == hall:
            raise BrokerConfigError(f"hall {hall!r} lists itself as a nearby centre")
        if neighbour in found:
            raise BrokerConfigError(f"hall {hall!r} lists nearby centre {neighbour!r} twice")
        found.append(neighbour)
    if len(found) > MAX_NEARBY:
        raise BrokerConfigError(f"hall {hall!r} lists {len(found)} nearby centres; "
                                f"at most {MAX_NEARBY}")
    return found


def city_accounts(halls: Iterable[str],
                  nearby: Mapping[str, Sequence[str]] | None = None) -> list[Account]:
    """The overview (reads every hall) and one bridge account per hall, which writes its own
    summary and bridge flag and reads its nearby centres' summaries."""
    halls = list(halls)
    nearby = nearby or {}
    for hall, neighbours in nearby.items():
        if hall not in halls:
            raise BrokerConfigError(f"nearby map: {hall!r} is not one of the city's halls")
        for neighbour in check_nearby(hall, neighbours):
            if neighbour not in halls:
                raise BrokerConfigError(f"nearby map: {hall}'s nearby centre {neighbour!r} "
                                        "is not one of the city's halls")
    accounts = [Account(OVERVIEW_USER, Role.UPSTREAM, (Grant(Access.READ, CityTopics.everything),))]
    for hall in halls:
        reads = (Grant(Access.READ, CityTopics.summary(n)) for n in nearby.get(hall, ()))
        accounts.append(Account(bridge_user(hall), Role.UPSTREAM, (
            Grant(Access.WRITE, CityTopics.summary(hall)),
            Grant(Access.WRITE, CityTopics.bridge(hall)), *reads)))
    return accounts


def read_nearby(path: Path) -> dict[str, list[str]]:
    """The city's neighbour map from a TOML file of ``hall = ["n1", "n2"]`` lines."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BrokerConfigError(f"{path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise BrokerConfigError(f"{path}: not valid TOML: {exc}") from None
    nearby: dict[str, list[str]] = {}
    for hall, neighbours in raw.items():
        if not isinstance(neighbours, list) or not all(isinstance(n, str) for n in neighbours):
            raise BrokerConfigError(f'{path}: {hall}: must be a list of hall ids, '
                                    f'e.g. {hall} = ["xuhui", "jingan"]')
        try:
            nearby[hall] = check_nearby(hall, neighbours)
        except BrokerConfigError as exc:
            raise BrokerConfigError(f"{path}: {exc}") from None
    return nearby


@dataclass(frozen=True, slots=True)
class CityOptions:
    port: int = 1883
    bind: str = "0.0.0.0"
    tls_cert: Path | None = None
    tls_key: Path | None = None
    run_as: str | None = None
    max_queued_messages: int = 10_000
    max_queued_bytes: int = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class CityFiles:
    directory: Path
    credentials: dict[str, Credential]

    @property
    def conf(self) -> Path:
        return self.directory / "mosquitto.conf"

    @property
    def credentials_file(self) -> Path:
        return self.directory / "credentials.toml"


def _abs(path: Path) -> str:
    text = str(path.resolve())
    if "\n" in text or " " in text:
        raise BrokerConfigError(f"path {text!r} cannot stand in mosquitto.conf")
    return text


def generate_city(halls: list[str], out: Path, options: CityOptions = CityOptions(),
                  nearby: Mapping[str, Sequence[str]] | None = None) -> CityFiles:
    """Write the city broker's mosquitto.conf, passwd, acl and credentials.toml into ``out``."""
    if len(set(halls)) != len(halls):
        raise BrokerConfigError("a hall id appears twice in the list")
    if (options.tls_cert is None) != (options.tls_key is None):
        raise BrokerConfigError("TLS needs both a certificate and a key")
    accounts = city_accounts(halls, nearby)
    out.mkdir(parents=True, exist_ok=True)
    state = out / "data"
    state.mkdir(mode=0o700, exist_ok=True)
    previous = read_credentials(out / "credentials.toml")
    credentials = {a.username: Credential(a.username, "city", previous[a.username].password
                                          if a.username in previous else new_password())
                   for a in accounts}
    files = CityFiles(out, credentials)
    write_atomic(files.credentials_file, render_credentials(CITY_NAME, credentials.values()),
                 0o600)
    write_atomic(out / "passwd", render_passwd(credentials.values(), read_passwd(out / "passwd")),
                 0o600)
    write_atomic(out / "acl", render_acl(CITY_NAME, accounts), 0o644)
    tls = ("# no TLS: generate with a certificate and key to encrypt the halls' links"
           if options.tls_cert is None or options.tls_key is None else
           f"certfile {_abs(options.tls_cert)}\nkeyfile {_abs(options.tls_key)}")
    template = resources.files("broker_config").joinpath("templates", "city.conf").read_text(
        "utf-8")
    write_atomic(files.conf, Template(template).substitute(
        password_file=_abs(out / "passwd"), acl_file=_abs(out / "acl"),
        user_line=f"user {options.run_as}" if options.run_as else "# user: unset",
        state_dir=_abs(state), max_queued_messages=options.max_queued_messages,
        max_queued_bytes=options.max_queued_bytes, port=options.port, bind=options.bind,
        tls_block=tls), 0o644)
    return files


@dataclass(frozen=True, slots=True)
class BridgeOptions:
    """Where the city broker is and how a hall's bridge reaches it."""

    city_host: str
    city_port: int
    password: str
    ca_file: Path | None = None
    restart_s: tuple[int, int] = (2, 30)  # reconnect back-off: base and cap
    keepalive_s: int = 30


def bridge_block(hall: str, options: BridgeOptions, nearby: Sequence[str] = ()) -> str:
    """The ``connection`` block a hall broker needs to publish its summary to the city and
    bring in its nearby centres' summaries."""
    for word in (options.city_host, options.password):
        if not word or any(c.isspace() for c in word):
            raise BrokerConfigError(f"{word!r} cannot stand in mosquitto.conf")
    pattern, local, remote = CityTopics.summary_out(hall)
    base, cap = options.restart_s
    lines = [
        BRIDGE_BEGIN,
        "# Only the retained summary goes upstream, remapped under the hall's id, at QoS 1.",
        f"connection {CITY_NAME}-{hall}",
        f"address {options.city_host}:{options.city_port}",
        "bridge_protocol_version mqttv50",
        f"remote_clientid {bridge_user(hall)}",
        f"remote_username {bridge_user(hall)}",
        f"remote_password {options.password}",
        f"topic {pattern} out 1 {local} {remote}",
        *_nearby_lines(HallTopics(hall), check_nearby(hall, nearby)),
        "notifications true",
        f"notification_topic {CityTopics.bridge(hall)}",
        "cleansession false",
        "start_type automatic",
        f"restart_timeout {base} {cap}",  # one value alone keeps the default 5 s back-off
        f"keepalive_interval {options.keepalive_s}",
    ]
    if options.ca_file is not None:
        lines.append(f"bridge_cafile {_abs(options.ca_file)}")
    return "\n".join([*lines, BRIDGE_END]) + "\n"


def _nearby_lines(topics: HallTopics, nearby: list[str]) -> list[str]:
    """One ``in`` line per nearby centre: its city summary onto this hall's nearby topic."""
    if not nearby:
        return []
    return ["# The nearby centres' summaries come down, each onto its own topic (QoS 1).",
            *(f'topic "" in 1 {topics.nearby(n)} {CityTopics.summary(n)}' for n in nearby)]


def add_bridge(conf: Path, block: str) -> None:
    """Append ``block`` to a hall broker's mosquitto.conf, replacing an earlier bridge block."""
    text = _BLOCK.sub("\n", conf.read_text(encoding="utf-8")).rstrip("\n")
    write_atomic(conf, f"{text}\n\n{block}", 0o644)


# ---------------------------------------------------------------- command line
def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m city.broker",
                                     description="Set up the city broker and the halls' bridges.")
    verbs = parser.add_subparsers(dest="verb", required=True)
    city = verbs.add_parser("city", help="write the city broker's config and accounts")
    city.add_argument("--halls", required=True, help="hall ids, comma-separated, or @FILE")
    city.add_argument("--out", required=True, type=Path)
    city.add_argument("--nearby", type=Path,
                      help='TOML file of hall = ["n1", "n2"] lines: the summaries each hall\'s '
                           "bridge may read")
    city.add_argument("--port", type=int, default=1883)
    city.add_argument("--bind", default="0.0.0.0")
    city.add_argument("--tls-cert", type=Path)
    city.add_argument("--tls-key", type=Path)
    bridge = verbs.add_parser("bridge", help="add the city bridge to a hall broker's config")
    bridge.add_argument("--hall", required=True, type=Path, help="the hall config TOML")
    bridge.add_argument("--conf", required=True, type=Path, help="the hall's mosquitto.conf")
    bridge.add_argument("--city-host", required=True)
    bridge.add_argument("--city-port", type=int, default=1883)
    bridge.add_argument("--city-credentials", required=True, type=Path,
                        help="credentials.toml holding this hall's bridge password")
    bridge.add_argument("--city-ca", type=Path, help="CA file, to reach the city over TLS")
    return parser


def _hall_ids(spec: str) -> list[str]:
    text = Path(spec[1:]).read_text(encoding="utf-8") if spec.startswith("@") else spec
    return [check_id(h.strip(), "hall id") for h in re.split(r"[,\s]+", text) if h.strip()]


def main(argv: list[str] | None = None) -> int:
    """Command line entry; returns the exit status (2 with the problem named on bad input)."""
    args = _parser().parse_args(argv)
    try:
        if args.verb == "city":
            nearby = read_nearby(args.nearby) if args.nearby is not None else None
            files = generate_city(_hall_ids(args.halls), args.out, CityOptions(
                args.port, args.bind, args.tls_cert, args.tls_key), nearby)
            print(f"wrote {files.conf} and the accounts of {len(files.credentials) - 1} halls")
            return 0
        config = load_hall_config(args.hall)
        hall, nearby_ids = config.hall.id, config.city.nearby
        password = password_for(args.city_credentials, bridge_user(hall))
        add_bridge(args.conf, bridge_block(hall, BridgeOptions(
            args.city_host, args.city_port, password, args.city_ca), nearby_ids))
        print(f"added the city bridge of {hall} ({len(nearby_ids)} nearby centres) to {args.conf}")
        return 0
    except (BrokerConfigError, CredentialsError, ConfigError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
