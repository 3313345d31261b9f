"""A client that is not paho — mosquitto_pub and mosquitto_sub, MQTT 5 — serves a resident
with nothing but the payloads of protocol/README.md and the MQTT properties it describes:
sign in, take two tickets, confirm their prints, call, recall, mark a no-show, call again
and finish. Only what the document says must change per command is changed: the command
id (a new command needs a new id) and the ticket a `printed` confirms."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from support.hall import hall_config, start_controller

from broker_config.process import MosquittoProcess
from hall.controller import Controller
from hallconfig import HallConfig, hash_pin
from protocol import asyncapi
from protocol import messages as m

HALL = "tianping"
README = asyncapi.README.read_text(encoding="utf-8")
EXPIRY_S = 10


def documented(model: str, nth: int = 0, **changes: Any) -> dict[str, Any]:
    """The README's ``nth`` example of ``model``, with the fields a sender must set."""
    assert set(changes) <= {"id", "ticket"}, "only the id and the ticket may change"
    found = [e for e in asyncapi.examples(README) if e.model == model and e.command is None]
    return {**found[nth].payload, **changes}


def readme_clerk() -> HallConfig:
    """The example hall, its clerk of the README's sign_in with the README's PIN."""
    sign_in = documented("SignIn")
    raw = hall_config().model_dump()
    clerk = next(c for c in raw["clerks"] if c["staff_no"] == sign_in["staff_no"])
    clerk["pin_hash"] = hash_pin(sign_in["pin"], b"readme", iterations=1)
    return HallConfig.model_validate(raw)


class MosquittoDevice:
    """One device as mosquitto_sub (its replies) plus one mosquitto_pub per command."""

    def __init__(self, broker: MosquittoProcess, device: str) -> None:
        settings = broker.broker_settings(device)
        self.device = device
        self.login = ["-V", "mqttv5", "-h", settings.host, "-p", str(settings.port),
                      "-u", device, "-P", str(settings.password)]
        self.reply_topic = f"lobby/{HALL}/reply/{device}"
        self.sub: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        """Subscribe to its replies and the controller's presence; once the retained
        presence is in, the reply subscription (same SUBSCRIBE) is active too."""
        self.sub = await asyncio.create_subprocess_exec(
            "mosquitto_sub", *self.login, "-i", f"{self.device}-sub", "-q", "1",
            "-t", self.reply_topic, "-t", f"lobby/{HALL}/presence/controller",
            "-F", "%t %D %p", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        topic, _, payload = await self._line()
        assert topic == f"lobby/{HALL}/presence/controller", payload
        assert json.loads(payload)["state"] == "online"

    async def _line(self) -> tuple[str, str, str]:
        assert self.sub is not None and self.sub.stdout is not None
        raw = await asyncio.wait_for(self.sub.stdout.readline(), EXPIRY_S)
        assert raw, "mosquitto_sub ended"
        topic, correlation, payload = raw.decode().rstrip("\n").split(" ", 2)
        return topic, correlation, payload

    async def request(self, name: str, payload: dict[str, Any]) -> m.Reply:
        """Publish the command as the README says and return the reply that carries its
        correlation data."""
        command_id = payload["id"]
        pub = await asyncio.create_subprocess_exec(
            "mosquitto_pub", *self.login, "-i", f"{self.device}-pub", "-q", "1",
            "-t", f"lobby/{HALL}/cmd/{self.device}/{name}",
            "-m", json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
            "-D", "publish", "response-topic", self.reply_topic,
            "-D", "publish", "correlation-data", command_id,
            "-D", "publish", "message-expiry-interval", str(EXPIRY_S),
            stderr=asyncio.subprocess.PIPE)
        _, err = await pub.communicate()
        assert pub.returncode == 0, err.decode()
        while True:
            topic, correlation, text = await self._line()
            if topic == self.reply_topic and correlation == command_id:
                reply = m.decode(m.Reply, text)
                assert reply.id == command_id
                if reply.ok:  # the result has the shape the document gives it
                    m.result_of(reply, name)
                return reply

    async def close(self) -> None:
        if self.sub is not None and self.sub.returncode is None:
            self.sub.terminate()
            await self.sub.wait()


@pytest.fixture
async def controller(fresh_broker: MosquittoProcess, tmp_path: Path) -> AsyncIterator[Controller]:
    started = await start_controller(fresh_broker, tmp_path, config=readme_clerk(),
                                     staffed=False)
    yield started
    await started.stop()


@pytest.fixture
async def devices(fresh_broker: MosquittoProcess,
                  controller: Controller) -> AsyncIterator[dict[str, MosquittoDevice]]:
    made = {name: MosquittoDevice(fresh_broker, name) for name in ("kiosk-1", "caller-3")}
    try:
        for device in made.values():
            await device.start()
        yield made
    finally:
        for device in made.values():
            await device.close()


def ok(reply: m.Reply) -> dict[str, Any]:
    assert reply.ok, reply.error
    assert reply.result is not None
    return reply.result


async def test_a_resident_served_with_the_readme_payloads(
        devices: dict[str, MosquittoDevice], controller: Controller) -> None:
    kiosk, caller = devices["kiosk-1"], devices["caller-3"]
    calling = await caller.request("call_next", documented("CallNext"))
    assert calling.error is not None and calling.error.code is m.ErrorCode.SIGN_IN_REQUIRED

    signed = ok(await caller.request("sign_in", documented("SignIn")))
    assert signed["counter"]["clerk"]["staff_no"] == documented("SignIn")["staff_no"]

    tickets = []
    for nth in (0, 1):  # a walk-in and a green ticket, each confirmed printed
        issued = ok(await kiosk.request("issue", documented("IssueTicket", nth)))["ticket"]
        assert issued["status"] == "pending_print"
        again = await kiosk.request("issue", documented("IssueTicket", nth))  # a retry
        assert ok(again)["ticket"]["ticket"] == issued["ticket"]
        confirm = documented("TicketPrinted", id=f"printed-{nth}-{issued['number']}",
                             ticket=issued["ticket"])
        assert ok(await kiosk.request("printed", confirm))["ticket"]["status"] == "waiting"
        tickets.append(issued["ticket"])

    retried = await caller.request("call_next", documented("CallNext"))  # the refused id:
    assert retried.error == calling.error  # the same answer, though a clerk is in now
    called = await caller.request("call_next", documented("CallNext", id="call-next-first"))
    first = ok(called)["called"]["ticket"]
    assert first in tickets
    recalled = ok(await caller.request("recall", documented("Recall")))["counter"]
    assert (recalled["ticket"], recalled["recalls"]) == (first, 1)
    gone = ok(await caller.request("no_show", documented("NoShow")))["counter"]
    assert gone["ticket"] is None
    assert controller.engine.tickets[first].status is m.TicketStatus.NO_SHOW

    second = ok(await caller.request("call_next", documented("CallNext", id="call-next-second")))
    assert second["called"]["ticket"] == next(t for t in tickets if t != first)
    finished = ok(await caller.request("done", documented("Done")))["counter"]
    assert finished["ticket"] is None
    assert controller.engine.tickets[second["called"]["ticket"]].status is m.TicketStatus.DONE

    other = await caller.request("recall", documented("Recall"))  # same id, same body: stored
    assert ok(other)["counter"]["recalls"] == 1
    misuse = await caller.request("done", documented("Done", id=documented("Recall")["id"]))
    assert misuse.error is not None and misuse.error.code is m.ErrorCode.ID_REUSED
