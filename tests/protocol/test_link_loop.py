"""The link runs on its asyncio loop alone (protocol/link.py): the loop calls paho's read,
write and keepalive steps, so no thread of paho's exists and every message is handled on the
loop; an idle link keeps its connection past the broker's keepalive limit; a link comes back
by itself when the broker does; closing says "stopped" and leaves the loop clean."""

from __future__ import annotations

import asyncio
import threading

from broker_config.process import MosquittoProcess
from protocol import messages as m
from protocol.link import Inbound, Link
from protocol.topics import CONTROLLER_ID, HallTopics

HALL = "tianping"
TOPICS = HallTopics(HALL)


def link(broker: MosquittoProcess, device: str, role: m.Role, keepalive: int = 15) -> Link:
    settings = broker.broker_settings(device).model_copy(update={"keepalive": keepalive})
    return Link(settings, HALL, device, role, follow=(TOPICS.presence(CONTROLLER_ID),))


async def test_messages_are_handled_on_the_loop_and_paho_has_no_thread(
        fresh_broker: MosquittoProcess) -> None:
    controller = Link(fresh_broker.broker_settings(CONTROLLER_ID), HALL, CONTROLLER_ID,
                      m.Role.CONTROLLER)
    manager = link(fresh_broker, "manager", m.Role.MANAGER)
    handled_on: list[int] = []
    heard = asyncio.Event()

    def note(inbound: Inbound) -> None:
        if isinstance(inbound.payload, m.Presence):
            handled_on.append(threading.get_ident())
            heard.set()

    manager.on_message(note)
    await controller.start()
    await manager.start()
    try:
        await asyncio.wait_for(heard.wait(), 10)  # the controller's retained "online"
        assert handled_on == [threading.get_ident()]
        assert not [t.name for t in threading.enumerate() if t.name.startswith("paho")]
    finally:
        await manager.close()
        await controller.close()


async def test_an_idle_link_keeps_its_connection_past_the_keepalive_limit(
        fresh_broker: MosquittoProcess) -> None:
    manager = link(fresh_broker, "manager", m.Role.MANAGER, keepalive=5)
    changes: list[bool] = []
    manager.on_connection(changes.append)
    await manager.start()
    try:
        await asyncio.sleep(9)  # the broker drops a client silent for 1.5 keepalives: 7.5 s
        assert manager.connected
        assert changes == [True]
    finally:
        await manager.close()


async def test_a_link_comes_back_with_the_broker_and_closes_cleanly(
        fresh_broker: MosquittoProcess) -> None:
    manager = link(fresh_broker, "manager", m.Role.MANAGER)
    changes: list[bool] = []
    back = asyncio.Event()

    def changed(up: bool) -> None:
        changes.append(up)
        if up and len(changes) > 1:
            back.set()

    manager.on_connection(changed)
    await manager.start()
    try:
        await asyncio.to_thread(fresh_broker.restart)
        await asyncio.wait_for(back.wait(), 15)
        assert changes == [True, False, True]
    finally:
        await manager.close()
    assert not manager.connected
    watcher = Link(fresh_broker.broker_settings(CONTROLLER_ID), HALL, CONTROLLER_ID,
                   m.Role.CONTROLLER, announce=False, follow=(TOPICS.presence("manager"),))
    said: asyncio.Future[m.Presence] = asyncio.get_running_loop().create_future()

    def heard(inbound: Inbound) -> None:
        if isinstance(inbound.payload, m.Presence) and not said.done():
            said.set_result(inbound.payload)

    watcher.on_message(heard)
    await watcher.start()
    try:
        assert (await asyncio.wait_for(said, 10)).state is m.PresenceState.STOPPED
    finally:
        await watcher.close()
