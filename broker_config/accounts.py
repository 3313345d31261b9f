"""Broker accounts of a hall and the least rights each needs, rendered as Mosquitto's acl_file.

Every account gets its own ``user`` block, generated from the hall config: Mosquitto's
``pattern`` lines apply to every user and ``%u``/``%c`` must fill a whole topic level, so
explicit blocks are both tighter and easier to audit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum

from broker_config.errors import AccountError
from hallconfig import HallConfig
from protocol.messages import ALLOWED, Role
from protocol.topics import CONTROLLER_ID, CityTopics, EventKind, HallTopics, StateKind


class Access(StrEnum):
    """What an ACL line lets an account do with a topic filter."""

    READ = "read"
    WRITE = "write"
    READWRITE = "readwrite"


@dataclass(frozen=True, slots=True)
class Grant:
    """One ACL line: an access right on a topic filter."""

    access: Access
    topic: str

    def line(self) -> str:
        return f"topic {self.access} {self.topic}"


@dataclass(frozen=True, slots=True)
class Account:
    """A broker login: the controller or one device, with its grants."""

    username: str
    role: Role
    grants: tuple[Grant, ...]
    counter: str | None = None


def _device_basics(topics: HallTopics, device: str) -> list[Grant]:
    """What every device may do: announce itself, report health, see the controller."""
    return [
        Grant(Access.WRITE, topics.presence(device)),
        Grant(Access.WRITE, topics.health(device)),
        Grant(Access.READ, topics.presence(CONTROLLER_ID)),
    ]


def _counter_device(topics: HallTopics, device: str) -> list[Grant]:
    """Kiosks and callers: their own replies and every state snapshot."""
    return [
        Grant(Access.READ, topics.reply(device)),
        Grant(Access.READ, topics.all_state),
        *_device_basics(topics, device),
    ]


def _display(topics: HallTopics, device: str) -> list[Grant]:
    return [
        Grant(Access.READ, topics.all_state),
        Grant(Access.READ, topics.event(EventKind.CALL)),
        *_device_basics(topics, device),
    ]


def _manager(topics: HallTopics, device: str) -> list[Grant]:
    """The tablet's service: the whole hall, and the city bridge's up/down flag, which
    Mosquitto keeps (retained) on the hall's broker too (``city.broker``'s notification_topic)."""
    return [
        Grant(Access.READ, topics.reply(device)),
        Grant(Access.READ, topics.all_state),
        Grant(Access.READ, topics.all_events),
        Grant(Access.READ, topics.all_presence),
        Grant(Access.READ, topics.all_health),
        Grant(Access.READ, CityTopics.bridge(topics.hall)),
        Grant(Access.WRITE, topics.presence(device)),
    ]


def _upstream(topics: HallTopics, device: str) -> list[Grant]:
    return [
        Grant(Access.READ, topics.reply(device)),
        Grant(Access.READ, topics.state(StateKind.SUMMARY)),
        Grant(Access.WRITE, topics.presence(device)),
    ]


_ROLE_GRANTS: dict[Role, Callable[[HallTopics, str], list[Grant]]] = {
    Role.KIOSK: _counter_device,
    Role.CALLER: _counter_device,
    Role.DISPLAY: _display,
    Role.MANAGER: _manager,
    Role.UPSTREAM: _upstream,
}


def device_account(topics: HallTopics, device: str, role: Role,
                   counter: str | None = None) -> Account:
    """The account of one device: its role's commands (protocol.messages.ALLOWED) and reads."""
    if device == CONTROLLER_ID:
        raise AccountError(f"device id {CONTROLLER_ID!r} is reserved for the hall controller")
    if role not in _ROLE_GRANTS:
        raise AccountError(f"device {device!r}: role {role!s} cannot be a device")
    commands = [Grant(Access.WRITE, topics.command(device, name)) for name in sorted(ALLOWED[role])]
    return Account(device, role, (*commands, *_ROLE_GRANTS[role](topics, device)), counter)


def controller_account(topics: HallTopics) -> Account:
    """The hall controller: reads and writes everything of its own hall, nothing else."""
    return Account(CONTROLLER_ID, Role.CONTROLLER, (Grant(Access.READWRITE, topics.everything),))


def hall_accounts(config: HallConfig) -> list[Account]:
    """The controller's account, then one account per device, in config order."""
    topics = HallTopics(config.hall.id)
    accounts = [controller_account(topics)]
    accounts += [device_account(topics, d.id, Role(d.role), d.counter) for d in config.devices]
    return accounts


def render_acl(hall: str, accounts: Iterable[Account]) -> str:
    """The acl_file text: a commented ``user`` block per account, no patterns."""
    lines = [
        f"# Mosquitto acl_file for hall {hall}: written by python -m broker_config.generate.",
        "# One block per account; anything not granted here is refused.",
    ]
    for account in accounts:
        what = "the hall controller" if account.role is Role.CONTROLLER else account.role.value
        what += f", counter {account.counter}" if account.counter else ""
        lines += ["", f"# {account.username}: {what}", f"user {account.username}"]
        lines += [grant.line() for grant in account.grants]
    return "\n".join(lines) + "\n"
