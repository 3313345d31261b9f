"""A command as it reaches the single writer, and the checks before it may run: the sender
is a device of this hall whose role may send it, its reply goes where the device reads,
and its payload is a valid, strictly typed command."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from hallconfig import Device, HallConfig
from protocol import messages as m
from protocol.topics import HallTopics

IN_PROCESS = Device(id="manager", role=m.Role.MANAGER)  # Controller.execute (tools, tests)


@dataclass(frozen=True, slots=True)
class Request:
    """One command to run: who sent it, what, and how to answer."""

    device: str
    name: str
    raw: bytes
    correlation: bytes | None = None
    response_topic: str | None = None
    deadline: float | None = None  # time.monotonic() after which the sender has given up
    answer: asyncio.Future[m.Reply] | None = None  # in-process callers (Controller.execute)
    clerk: str | None = None  # a sign-in's clerk, verified before the writer (hall/signin.py)

    def sender(self, config: HallConfig) -> Device | None:
        """The hall's device that sent it (the manager's, in-process); None: unknown."""
        return config.device(self.device) or (IN_PROCESS if self.answer is not None else None)


def check(request: Request, device: Device | None, topics: HallTopics) -> m.Command | m.Reply:
    """Decode and authorise a request, or the error reply that explains why not."""
    cid = m.command_id_of(request.raw)
    if device is None:
        return error(cid, m.ErrorCode.UNKNOWN_DEVICE, f"unknown device {request.device!r}")
    model = m.COMMANDS.get(request.name)
    if model is None:
        return error(cid, m.ErrorCode.UNKNOWN_COMMAND, f"unknown command {request.name!r}")
    if request.name not in m.ALLOWED[m.Role(device.role)]:
        return error(cid, m.ErrorCode.FORBIDDEN, f"a {device.role} may not send {request.name}")
    own = topics.reply(request.device)
    if request.response_topic not in (None, own):
        return error(cid, m.ErrorCode.MALFORMED, f"response topic must be {own}")
    try:
        m.check_shape(request.raw)
        command = m.decode(model, request.raw)
    except m.PayloadError as exc:
        return error(cid, exc.code, str(exc))
    if command.by is not None and device.role != m.Role.MANAGER:
        return error(cid, m.ErrorCode.MALFORMED, "by: only a manager's device names the staff "
                     "member it acts for")
    return command


def error(command_id: str, code: m.ErrorCode, message: str) -> m.Reply:
    return m.Reply(id=command_id, ok=False, error=m.ErrorInfo(code=code, message=message))


def internal(request: Request) -> m.Reply:
    return error(m.command_id_of(request.raw), m.ErrorCode.INTERNAL,
                 "internal error; see the controller log")
