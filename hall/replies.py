"""The replies the controller has given, so that a retried command gets the same one.

A reply belongs to one device's command id, and remembers the command's name and a digest
of its body: the same device retrying the same command gets the stored reply; the same id
from another device is simply another command, and the same device reusing an id for a
different command gets ``id_reused``. Replies of commands that changed something are
journaled (durable, any day: a retry looks its reply up in the journal); refusals and
read-only answers are kept in memory only (the latest ``VOLATILE_KEPT``, packed), so a device
repeating a refused command cannot fill the disk.
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
    """The latest volatile replies (refusals, read-only answers) by (device, command id),
    each kept as one bytes object (name, digest and reply packed); journaled replies are
    looked up in the journal, not kept here."""

    def __init__(self) -> None:
        self._volatile: OrderedDict[tuple[str, str], bytes] = OrderedDict()

    def find(self, device: str, command_id: str) -> CommandRecord | None:
        packed = self._volatile.get((device, command_id))
        if packed is None:
            return None
        name_end = 2 + packed[0]
        digest_end = name_end + packed[1]
        return CommandRecord(device, command_id, packed[2:name_end].decode(),
                             packed[name_end:digest_end].hex(), packed[digest_end:].decode())

    def keep(self, entry: CommandRecord) -> None:
        key = (entry.device, entry.id)
        name, digest = entry.name.encode(), bytes.fromhex(entry.digest)
        self._volatile[key] = b"".join(
            (bytes((len(name), len(digest))), name, digest, entry.reply.encode()))
        self._volatile.move_to_end(key)
        while len(self._volatile) > VOLATILE_KEPT:
            self._volatile.popitem(last=False)
