"""A clean broker restart fires every client's last will: devices back within the grace
period raise no device_offline alert, one that stays away does once the grace has passed,
and the controller's own presence is "online" again within seconds."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from support.hall import start_controller, weekday_morning

from broker_config.process import MosquittoProcess
from hall.controller import Controller
from protocol import messages as m
from protocol.link import Inbound, Link
from protocol.topics import CONTROLLER_ID

HALL = "tianping"
WAIT_S = 15.0


async def until(condition: Callable[[], bool], what: str) -> None:
    """Wait until ``condition()`` holds (the links report no event for it)."""
    try:
        async with asyncio.timeout(WAIT_S):
            while not condition():
                await asyncio.sleep(0.02)
    except TimeoutError:
        raise AssertionError(f"not within {WAIT_S} s: {what}") from None


async def device(broker: MosquittoProcess, device_id: str, role: m.Role,
                 follow: tuple[str, ...] = ()) -> Link:
    link = Link(broker.broker_settings(device_id), HALL, device_id, role, follow=follow)
    await link.start()
    return link


def offline_alerts(controller: Controller) -> list[m.Alert]:
    return [a for a in controller.alerts.recent if a.kind is m.AlertKind.DEVICE_OFFLINE]


async def test_a_clean_broker_restart_alerts_only_for_a_device_that_stays_away(
        fresh_broker: MosquittoProcess, tmp_path: Path) -> None:
    clock = weekday_morning()
    controller = await start_controller(fresh_broker, tmp_path, clock=clock, staffed=False)
    heard: dict[str, m.PresenceState] = {}  # device -> the last presence the controller heard

    def presence(inbound: Inbound) -> None:
        if isinstance(inbound.payload, m.Presence):
            heard[inbound.topic.kind] = inbound.payload.state

    controller.link.on_message(presence)
    display = await device(fresh_broker, "display-lobby", m.Role.DISPLAY)
    kiosk = await device(fresh_broker, "kiosk-1", m.Role.KIOSK)
    watcher = await device(fresh_broker, "display-w3", m.Role.DISPLAY,
                           (f"lobby/{HALL}/presence/{CONTROLLER_ID}",))
    try:
        await until(lambda: heard.get("kiosk-1") is m.PresenceState.ONLINE, "kiosk-1 online")
        fresh_broker.stop()  # SIGTERM: the broker publishes every client's will
        await until(lambda: not (kiosk.connected or controller.link.connected),
                    "links down")
        await kiosk.close()  # never comes back
        heard.clear()
        fresh_broker.start()
        await until(lambda: heard.get("kiosk-1") is m.PresenceState.OFFLINE
                    and heard.get("display-lobby") is m.PresenceState.ONLINE
                    and heard.get("display-w3") is m.PresenceState.ONLINE,
                    "the controller hears kiosk-1's will and the displays back")
        await until(lambda: watcher.state.get(f"lobby/{HALL}/presence/{CONTROLLER_ID}")
                    == m.Presence(state=m.PresenceState.ONLINE, role=m.Role.CONTROLLER),
                    "the controller's presence online again")

        grace = controller.config.rules.offline_grace_s
        assert grace == 60
        clock.advance(grace - 1)
        await controller.tick(clock.now())
        assert offline_alerts(controller) == []
        clock.advance(1)
        await controller.tick(clock.now())
        assert [a.subject for a in offline_alerts(controller)] == ["kiosk-1"]
        await controller.tick(clock.now())
        assert len(offline_alerts(controller)) == 1  # raised once
    finally:
        for link in (display, watcher):
            await link.close()
        await controller.stop()
