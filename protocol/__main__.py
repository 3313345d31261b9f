"""The device link from a terminal: act as any device of its settings file.

    python -m protocol --config kiosk-1.toml issue A [--green]
    python -m protocol --config caller-3.toml call_next | recall | no_show | done | pause | resume
    python -m protocol --config display-lobby.toml follow [--count N]

Only the file's [device] and [broker] sections are read, so any device's settings file
works. Each command prints the controller's reply as one JSON line; ``follow`` prints each
call as it is made. The broker refuses what the device's role may not do.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tomllib
from pathlib import Path

from pydantic import ValidationError

from protocol import messages as m
from protocol.device import DeviceConfigError, DeviceSettings, describe
from protocol.link import Link, LinkError, new_command_id
from protocol.topics import EventKind

COUNTER_ACTIONS = ("call_next", "recall", "no_show", "start", "done", "pause", "resume")
ROLES = {"kiosk": m.Role.KIOSK, "caller": m.Role.CALLER, "display": m.Role.DISPLAY,
         "manager": m.Role.MANAGER}


def read_settings(path: Path) -> DeviceSettings:
    """The [device] and [broker] sections of any device's settings file."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise DeviceConfigError(f"{path}: {exc}") from exc
    try:
        return DeviceSettings.model_validate({k: raw[k] for k in ("device", "broker") if k in raw})
    except ValidationError as exc:
        raise DeviceConfigError(f"{path}: {describe(exc)}") from exc


def role_of(device_id: str) -> m.Role:
    """The role a device id names by convention (kiosk-1, caller-3, display-lobby, manager)."""
    return ROLES.get(device_id.split("-", 1)[0], m.Role.MANAGER)


def command_for(args: argparse.Namespace) -> tuple[str, m.Command]:
    if args.action == "issue":
        return "issue", m.IssueTicket(id=new_command_id(), service=args.service.upper(),
                                      green=args.green, print_on_kiosk=False)
    return args.action, m.COMMANDS[args.action](id=new_command_id())


async def send(link: Link, name: str, command: m.Command) -> m.Reply:
    """Send one command; a kiosk's ticket is 'printed' on this terminal, then confirmed."""
    await link.start()
    try:
        reply = await link.request(name, command)
        ticket = reply.result_as(m.TicketResult).ticket if reply.ok and name == "issue" else None
        if ticket is not None and ticket.status is m.TicketStatus.PENDING_PRINT:
            print(f"ticket {ticket.number}: {ticket.ahead} ahead, "
                  f"about {ticket.estimated_wait_min} min", file=sys.stderr)
            await link.request("printed", m.TicketPrinted(id=new_command_id(),
                                                          ticket=ticket.ticket))
        return reply
    finally:
        await link.close()


async def follow(link: Link, count: int | None) -> None:
    """Print each call (and recall) as one JSON line; stop after ``count`` if given."""
    seen = 0
    done = asyncio.Event()

    def on_message(inbound: object) -> None:
        nonlocal seen
        call = getattr(inbound, "payload", None)
        if isinstance(call, m.CallEvent):
            print(call.model_dump_json(), flush=True)
            seen += 1
            if count is not None and seen >= count:
                done.set()

    link.follow = [link.topics.event(EventKind.CALL)]
    link.on_message(on_message)
    await link.start()
    try:
        await done.wait()
    finally:
        await link.close()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m protocol", description=__doc__.split("\n")[0])
    parser.add_argument("--config", required=True, type=Path, help="a device's settings file")
    actions = parser.add_subparsers(dest="action", required=True)
    issue = actions.add_parser("issue", help="take a ticket (kiosk, manager)")
    issue.add_argument("service", help="service letter, e.g. A")
    issue.add_argument("--green", action="store_true", help="green channel")
    for action in COUNTER_ACTIONS:
        actions.add_parser(action, help=f"{action} at this caller's counter")
    follow_parser = actions.add_parser("follow", help="print the calls as they are made")
    follow_parser.add_argument("--count", type=int, help="stop after this many calls")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = read_settings(args.config)
    except DeviceConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return 2
    link = Link(settings.broker, settings.device.hall, settings.device.id,
                role_of(settings.device.id))
    try:
        if args.action == "follow":
            asyncio.run(follow(link, args.count))
            return 0
        reply = asyncio.run(send(link, *command_for(args)))
    except (LinkError, KeyboardInterrupt) as exc:
        print(f"no answer: {exc}", file=sys.stderr)
        return 1
    except m.PayloadError as exc:
        print(f"unreadable reply: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(reply.model_dump(mode="json"), ensure_ascii=False))
    return 0 if reply.ok else 1


if __name__ == "__main__":
    sys.exit(main())
