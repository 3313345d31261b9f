"""A display client on a real Mosquitto with the real Controller: every call, in order; a
restarted display rebuilds the same picture from retained state; only live calls are said."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from support.hall import start_controller

from broker_config.process import MosquittoProcess
from display.announcing import announcer
from display.feed import DisplayFeed
from display.model import DisplayModel
from display.picture import lobby_picture
from display.voice.announcer import AnnouncementQueue
from hall.controller import Controller
from protocol import messages as m
from protocol.link import Inbound, Link, new_command_id
from protocol.topics import EventKind, HallTopics
from voice.default_pack import ensure_default_pack
from voice.pack import load_pack
from voice.speaker import RecordingSpeaker

HALL = "tianping"
WAIT_S = 10.0


def display(broker: MosquittoProcess, device: str = "display-lobby") -> DisplayFeed:
    return DisplayFeed.connect_to(broker.broker_settings(device), HALL, device)


async def started(feed: DisplayFeed, controller: Controller) -> DisplayFeed:
    """The feed, connected, holding the hall's whole retained state, and live: the
    controller's periodic presence (its tick's, sent now) is what makes it so."""
    await feed.start(wait=WAIT_S)
    await feed.wait_until(lambda seen: seen.controller_online and len(seen.counters) == 13
                          and len(seen.services) == 7, WAIT_S)
    controller.republish_presence()
    await feed.wait_until(lambda seen: not seen.offline, WAIT_S)
    return feed


class Mirror:
    """Everything the controller publishes, as the manager's account hears it, folded: what a
    display catches up with."""

    def __init__(self) -> None:
        self.model = DisplayModel()
        self._changed = asyncio.Event()

    def fold(self, inbound: Inbound) -> None:
        self.model.fold(inbound.topic, inbound.payload, 0)
        self._changed.set()

    async def wait_until(self, ready: Callable[[DisplayModel], bool]) -> None:
        while not ready(self.model):
            self._changed.clear()
            await self._changed.wait()


@pytest.fixture
async def mirror(fresh_broker: MosquittoProcess) -> AsyncIterator[
        Callable[[Controller], Awaitable[Mirror]]]:
    links: list[Link] = []

    async def follow(controller: Controller) -> Mirror:
        hall = controller.config.hall.id
        topics = HallTopics(hall)
        link = Link(fresh_broker.broker_settings("manager"), hall, "manager", m.Role.MANAGER,
                    follow=[topics.all_state, topics.event(EventKind.CALL)])
        mirrored = Mirror()
        link.on_message(mirrored.fold)
        links.append(link)
        await link.start()
        return mirrored

    yield follow
    for link in links:
        await link.close()


async def both_until(feed: DisplayFeed, published: Mirror,
                     ready: Callable[[DisplayModel, DisplayModel], bool]) -> None:
    """Wait until ``ready(display, published)`` holds, looking again after a message to
    either: whichever of the two clients hears the last message sees it hold."""
    def holds(_: DisplayModel) -> bool:
        return ready(feed.model, published.model)

    waits = [asyncio.ensure_future(feed.wait_until(holds, WAIT_S)),
             asyncio.ensure_future(asyncio.wait_for(published.wait_until(holds), WAIT_S))]
    done, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    for waiting in pending:
        waiting.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    if not any(w.exception() is None for w in done):
        raise TimeoutError


async def settled(controller: Controller, published: Mirror, feed: DisplayFeed) -> None:
    """Wait until the controller has published its last change (waiting counts are projected
    a moment after each command) and the display has received all of it."""
    def final(seen: DisplayModel, mirrored: DisplayModel) -> bool:
        queues = controller.engine.queues
        return (all(mirrored.services[s].waiting == queues[s].waiting for s in queues)
                and seen.facts() == mirrored.facts())

    await both_until(feed, published, final)


async def run(controller: Controller, name: str, command: m.Command,
              device: str = "manager") -> m.Reply:
    reply = await controller.execute(name, command, device)
    assert reply.ok, reply.error
    return reply


async def issue(controller: Controller, count: int) -> None:
    for n in range(count):
        await run(controller, "issue", m.IssueTicket(id=new_command_id(), service="ABCDEFG"[n % 7],
                                                     print_on_kiosk=False))


async def call_next(controller: Controller, counter: str) -> tuple[str, str, bool]:
    reply = await run(controller, "call_next", m.CallNext(id=new_command_id()), f"caller-{counter}")
    assert reply.result is not None and reply.result["called"] is not None
    return reply.result["called"]["number"], counter, False


async def recall(controller: Controller, counter: str) -> tuple[str, str, bool]:
    reply = await run(controller, "recall", m.Recall(id=new_command_id()), f"caller-{counter}")
    assert reply.result is not None
    number = reply.result["counter"]["number"]
    return number, counter, True


async def a_busy_morning(controller: Controller, calls: int) -> list[tuple[str, str, bool]]:
    """Calls across all 13 windows, every fifth followed by a recall, as fast as they go."""
    await issue(controller, 2 * calls)  # enough for the specialist windows too
    made = []
    for n in range(calls):
        counter = str(n % 13 + 1)
        made.append(await call_next(controller, counter))
        if n % 5 == 4:
            made.append(await recall(controller, counter))
    return made


async def test_the_display_sees_every_call_in_order(
        fresh_broker: MosquittoProcess, controller: Controller) -> None:
    feed = await started(display(fresh_broker), controller)
    try:
        made = await a_busy_morning(controller, 40)
        await feed.wait_until(lambda _: len(feed.live_calls) >= len(made), WAIT_S)
    finally:
        await feed.close()
    assert [c.seq for c in feed.live_calls] == list(range(1, len(made) + 1))
    assert [(c.number, c.counter, c.recall) for c in feed.live_calls] == made
    assert feed.model.missed_calls == 0
    assert feed.model.current == feed.live_calls[-1]


async def test_a_restarted_display_rebuilds_the_same_picture(
        fresh_broker: MosquittoProcess, controller: Controller,
        mirror: Callable[[Controller], Awaitable[Mirror]]) -> None:
    published = await mirror(controller)
    old = await started(display(fresh_broker), controller)
    made = await a_busy_morning(controller, 16)
    await run(controller, "pause", m.Pause(id=new_command_id(), counter="5"))
    await run(controller, "set_notice", m.SetNotice(id=new_command_id(), text="医保系统14:00升级"))
    await settled(controller, published, old)
    assert len(old.live_calls) == len(made)
    await old.close()

    new = await started(display(fresh_broker), controller)
    try:  # the hall as published now (estimates may have moved on since the old one closed)
        with contextlib.suppress(TimeoutError):  # the assertion below shows what differs
            await both_until(new, published, lambda seen, now: seen.facts() == now.facts())
    finally:
        await new.close()
    assert new.model.facts() == published.model.facts()
    assert not new.live_calls  # the retained backlog is shown, never announced again
    assert [c.seq for c in new.model.calls] == list(range(len(made), len(made) - 10, -1))
    at = old.model.calls[0].at
    before, after = lobby_picture(published.model, at, 1e9), lobby_picture(new.model, at, 1e9)
    assert after == before
    assert after.current is not None and after.current.number == made[-1][0]
    assert after.notice == "医保系统14:00升级"
    assert {tile.id: tile.state for tile in after.counters}["5"] == "paused"


async def test_the_display_goes_offline_with_the_controller_and_keeps_its_picture(
        fresh_broker: MosquittoProcess, tmp_path: Path,
        mirror: Callable[[Controller], Awaitable[Mirror]]) -> None:
    controller = await start_controller(fresh_broker, tmp_path)
    published = await mirror(controller)
    feed = await started(display(fresh_broker), controller)
    try:
        await a_busy_morning(controller, 3)
        await settled(controller, published, feed)
        await feed.wait_until(lambda seen: len(seen.facts().calls) == 3, WAIT_S)
        facts = feed.model.facts()
        assert len(facts.calls) == 3
        await controller.stop()  # what it published last (an estimate may have moved) stays
        with contextlib.suppress(TimeoutError):  # the assertion below shows what differs
            await both_until(feed, published,
                             lambda seen, now: seen.offline and seen.facts() == now.facts())
        assert feed.model.offline and feed.model.facts() == published.model.facts()
        assert feed.model.facts().calls == facts.calls
        controller = await start_controller(fresh_broker, tmp_path)  # same journal: a restart
        await feed.wait_until(lambda seen: not seen.offline, WAIT_S)
        await feed.wait_until(lambda seen: seen.facts().calls == facts.calls, WAIT_S)
    finally:
        await feed.close()
        await controller.stop()


@pytest.fixture(scope="session")
def voice_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default voice pack, built once a session (the voice tests share the folder)."""
    return ensure_default_pack(tmp_path_factory.getbasetemp() / "voice-default")


async def test_live_calls_and_recalls_are_announced_in_order_and_the_backlog_never(
        fresh_broker: MosquittoProcess, controller: Controller, voice_dir: Path) -> None:
    speaker = RecordingSpeaker(speed=5000.0)
    queue = AnnouncementQueue(load_pack(voice_dir), speaker, english=True)
    saying = asyncio.create_task(queue.run())
    first = await started(display(fresh_broker), controller)
    first.on_call(announcer(queue))
    window_3 = await started(display(fresh_broker, "display-w3"), controller)
    only_3 = RecordingSpeaker(speed=5000.0)
    window_queue = AnnouncementQueue(load_pack(voice_dir), only_3)
    window_3.on_call(announcer(window_queue, counter="3"))
    window_saying = asyncio.create_task(window_queue.run())
    try:
        made = await a_busy_morning(controller, 5)
        assert await asyncio.to_thread(speaker.wait_until_played, len(made), WAIT_S)
        await asyncio.to_thread(only_3.wait_until_played, 1, WAIT_S)
        restarted = await started(display(fresh_broker), controller)
        restarted.on_call(announcer(queue))
        await restarted.wait_until(lambda seen: len(seen.calls) == len(made), WAIT_S)
        await restarted.close()
        await queue.join()
    finally:
        for task in (saying, window_saying):
            task.cancel()
        await asyncio.gather(saying, window_saying, return_exceptions=True)
        await first.close()
        await window_3.close()
    titles = [f"{number} → {counter}" + (" (recall)" if again else "")
              for number, counter, again in made]
    assert speaker.titles == titles
    assert only_3.titles == [t for t, (_, counter, _) in zip(titles, made, strict=True)
                             if counter == "3"]
