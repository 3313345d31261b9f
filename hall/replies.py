"""The replies the controller has given, so that a retried command gets the same one.

A reply belongs to one device's command id, and remembers the command's name and a digest
of its body: the same device retrying the same command gets the stored reply; the same id
from another device is simply another command, and the same device reusing an id for a
different command gets ``id_reused``. Replies of commands that changed something are
journaled (durable, any day); refusals and read-only answers are kept in memory only (the
latest ``VOLATILE_KEPT``), so a device repeating a refused command cannot fill the disk.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict

from hall.journal import CommandRecord
from protocol import messages as m

VOLATILE_KEPT = 20_000


def digest(command: m.Command) -> str:
    """A digest of the command's body (all but its id and deadline; defaults included)."""
    body = command.model_dump(mode="json", exclude={"id", "deadline"})
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:32]


def record(device: str, name: str, command: m.Command, reply: m.Reply) -> CommandRecord:
    return CommandRecord(device, command.id, name, digest(command), m.encode(reply).decode())


def answer_to_retry(stored: CommandRecord, name: str, command: m.Command) -> m.Reply:
    """The stored reply if this is the same command again, else an ``id_reused`` error."""
    if stored.name == name and stored.digest in ("", digest(command)):
        return m.Reply.model_validate_json(stored.reply)
    return m.Reply(id=command.id, ok=False, error=m.ErrorInfo(
        code=m.ErrorCode.ID_REUSED,
        message=f"command id {command.id} was used before for another {stored.name} "
                f"command: use a new id for a new command"))


class ReplyBook:
    """Recent replies by (device, command id): durable ones of today and yesterday, and
    the latest volatile ones."""

    def __init__(self, durable: list[CommandRecord] | None = None) -> None:
        self._durable = {(r.device, r.id): r for r in durable or []}
        self._volatile: OrderedDict[tuple[str, str], CommandRecord] = OrderedDict()

    def load(self, durable: list[CommandRecord]) -> None:
        """Replace the durable replies (at start and each new day); volatile ones stay."""
        self._durable = {(r.device, r.id): r for r in durable}

    def find(self, device: str, command_id: str) -> CommandRecord | None:
        key = (device, command_id)
        return self._durable.get(key) or self._volatile.get(key)

    def keep(self, entry: CommandRecord, durable: bool) -> None:
        key = (entry.device, entry.id)
        if durable:
            self._durable[key] = entry
            self._volatile.pop(key, None)
            return
        self._volatile[key] = entry
        self._volatile.move_to_end(key)
        while len(self._volatile) > VOLATILE_KEPT:
            self._volatile.popitem(last=False)
