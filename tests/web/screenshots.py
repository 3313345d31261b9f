"""Screenshots of the web app for images/screenshots, from a simulated busy morning.

    .venv/bin/python tests/web/screenshots.py [--out images/screenshots]

Starts a city broker and the hall's broker bridged to it, the controller (virtual clock) and
the web app, plays a morning through the controller's own command path, lets the devices'
offline grace pass so that the controller's own ticker raises its alerts, then photographs the
tablet's pages and a status page.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parents[1]), str(HERE.parent), str(HERE)]

from browser import launch, sign_in  # noqa: E402
from support.broker import start_broker  # noqa: E402
from webhall import MANAGER, WebHall, start_web_hall  # noqa: E402

from broker_config.process import MosquittoProcess  # noqa: E402
from city.broker import BridgeOptions, add_bridge, bridge_block  # noqa: E402
from city.broker_process import CityBroker  # noqa: E402
from hall.clock import VirtualClock  # noqa: E402
from protocol import messages as m  # noqa: E402
from protocol.link import Link, new_command_id  # noqa: E402

WEIGHTS = {"A": 24, "B": 18, "C": 10, "D": 8, "E": 16, "F": 14, "G": 10}


async def run(hall: WebHall, name: str, command: m.Command, device: str = "manager") -> m.Reply:
    return await hall.execute(name, command, device)


async def morning(hall: WebHall) -> None:
    """Two busy hours: tickets arrive, clerks call, serve and get rated."""
    clock = hall.controller.clock
    assert isinstance(clock, VirtualClock)
    rng = random.Random(7)
    for n in range(1, 13):
        await run(hall, "sign_in", m.SignIn(id=new_command_id(), staff_no=f"S{n:03d}",
                                            pin="1234"), f"caller-{n}")
    for counter in ("7", "8", "9", "13"):  # 7-9 are tidal windows, opened at the peak
        await run(hall, "close_counter", m.CloseCounter(id=new_command_id(), counter=counter))
    busy: dict[int, float] = {}
    for minute in range(0, 125):
        if minute == 70:
            for counter in ("7", "8", "9"):
                await run(hall, "open_counter", m.OpenCounter(id=new_command_id(),
                                                              counter=counter))
        arrivals = (1, 1, 2, 2, 3) if minute < 60 else (0, 1, 1, 1, 2)
        for _ in range(rng.choice(arrivals)):
            service = rng.choices(list(WEIGHTS), list(WEIGHTS.values()))[0]
            await run(hall, "issue", m.IssueTicket(id=new_command_id(), service=service,
                                                   print_on_kiosk=False))
        for counter in range(1, 13):
            if busy.get(counter, 0) > minute:
                continue
            if str(counter) in ("7", "8", "9") and minute < 70:
                continue
            reply = await run(hall, "call_next", m.CallNext(id=new_command_id()),
                              f"caller-{counter}")
            if reply.ok and reply.result and reply.result["called"]:
                busy[counter] = minute + rng.uniform(4, 13)
                if rng.random() < 0.05:  # the resident is not there: 过号
                    await run(hall, "no_show", m.NoShow(id=new_command_id()), f"caller-{counter}")
                    busy[counter] = minute + 1
                if rng.random() < 0.5 and minute > 3:
                    await run(hall, "evaluate", m.Evaluate(
                        id=new_command_id(), rating=rng.choice((5, 5, 5, 4, 4, 3))),
                        f"caller-{counter}")
        if minute == 80:
            await run(hall, "pause", m.Pause(id=new_command_id(),
                                             reason=m.PauseReason.MEETING), "caller-9")
        clock.advance(60)
    for counter in range(1, 13):  # one bad rating, at the first counter with an unrated ticket
        reply = await run(hall, "evaluate", m.Evaluate(id=new_command_id(), rating=1),
                          f"caller-{counter}")
        if reply.ok:
            break
    for _ in range(6):
        await run(hall, "issue", m.IssueTicket(id=new_command_id(), service="A",
                                               print_on_kiosk=False))
    await run(hall, "issue", m.IssueTicket(id=new_command_id(), service="C", green=True,
                                           print_on_kiosk=False))
    await run(hall, "set_notice", m.SetNotice(
        id=new_command_id(), text="11:30–12:00 社保卡业务系统维护 · Social security card "
                                  "service pauses 11:30–12:00"))


async def devices(hall: WebHall) -> list[Link]:
    """Devices that report in: kiosks (one low on paper), displays, callers (one offline)."""
    ids = ["kiosk-1", "kiosk-2", "display-lobby", *[f"caller-{n}" for n in range(1, 14)],
           *[f"display-w{n}" for n in range(1, 13)]]
    roles = {"kiosk": m.Role.KIOSK, "display": m.Role.DISPLAY, "caller": m.Role.CALLER}
    links = []
    for device in ids:
        link = Link(hall.broker.broker_settings(device), "tianping", device,
                    roles[device.split("-")[0]])
        await link.start()
        links.append(link)
    kiosk2, caller13 = links[1], links[15]
    now = hall.controller.clock.now()
    kiosk2.publish(kiosk2.topics.health("kiosk-2"), m.DeviceHealth(
        ok=False, printer=m.PrinterHealth.PAPER_LOW, detail="纸将用完 paper low", at=now),
        retain=True)
    caller13.publish(caller13.topics.presence("caller-13"), m.Presence(
        state=m.PresenceState.OFFLINE, role=m.Role.CALLER), retain=True)
    return links


async def offline_heard(hall: WebHall, device: str, timeout: float = 10.0) -> None:
    """Wait until the controller has heard ``device`` go offline (its grace starts then)."""
    async with asyncio.timeout(timeout):
        while device not in hall.controller.alerts.offline:
            await asyncio.sleep(0.1)


async def alerts_raised(hall: WebHall, kinds: set[m.AlertKind], timeout: float = 10.0) -> None:
    """Wait for the controller's own ticker to raise these alerts; TimeoutError naming those
    that did not come."""
    try:
        async with asyncio.timeout(timeout):
            while not kinds <= {kind for kind, _ in hall.controller.alerts.active}:
                await asyncio.sleep(0.1)
    except TimeoutError:
        missing = kinds - {kind for kind, _ in hall.controller.alerts.active}
        raise TimeoutError(f"no {', '.join(sorted(missing))} alert in {timeout} s") from None


async def photograph(hall: WebHall, out: Path) -> None:
    async with launch() as browser:
        tablet = await browser.new_page(viewport={"width": 1280, "height": 800})
        await tablet.goto(hall.url + "/login")
        await tablet.screenshot(path=str(out / "manager-login.png"))
        await sign_in(tablet, hall.url, *MANAGER)
        await tablet.wait_for_selector(".counter-card")
        await tablet.locator("#conn.up").wait_for()
        await tablet.locator("#whatif-go").click()
        await tablet.locator("#whatif-table:not([hidden])").wait_for()
        await tablet.locator("#bridge.ok").wait_for()
        await tablet.evaluate("window.scrollTo(0, 0)")  # the sticky header back on top
        await tablet.screenshot(path=str(out / "manager-live.png"), full_page=True)
        await tablet.locator('[data-counter="3"]').click()
        await tablet.screenshot(path=str(out / "manager-counter.png"))
        await tablet.keyboard.press("Escape")
        await tablet.locator("#issue-open").click()
        await tablet.locator("#issue-green").check()
        await tablet.locator("#issue-go").click()
        await tablet.locator(".issued-number").wait_for()
        await tablet.screenshot(path=str(out / "manager-issue.png"))
        await tablet.goto(hall.url + "/reports")
        await tablet.screenshot(path=str(out / "manager-reports.png"), full_page=True)
        phone = await browser.new_page(viewport={"width": 390, "height": 760},
                                       device_scale_factor=2)
        waiting = next(t for t in hall.controller.engine.tickets.values()
                       if t.status is m.TicketStatus.WAITING)
        await phone.goto(f"{hall.status_url}/t/{waiting.token}")
        await phone.screenshot(path=str(out / "status-page.png"))


def bridged(broker: MosquittoProcess, city: CityBroker) -> None:
    """Give the hall's broker its city bridge, as ``python -m city.broker bridge`` does."""
    broker.stop()
    add_bridge(broker.files.conf, bridge_block("tianping", BridgeOptions(
        "127.0.0.1", city.port, city.bridge_password("tianping"))))
    broker.start()


async def main(out: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        city = CityBroker(["tianping"], Path(tmp) / "city")
        city.start()
        broker = start_broker(HERE.parents[1] / "examples" / "hall.toml", Path(tmp) / "broker")
        bridged(broker, city)
        hall = await start_web_hall(broker, Path(tmp))
        links: list[Link] = []
        try:
            await morning(hall)
            links = await devices(hall)
            await offline_heard(hall, "caller-13")  # then its grace passes on the hall's clock
            clock = hall.controller.clock
            assert isinstance(clock, VirtualClock)
            clock.advance(hall.controller.config.rules.offline_grace_s + 30)
            await alerts_raised(hall, {m.AlertKind.PAUSED_TOO_LONG, m.AlertKind.PRINTER,
                                       m.AlertKind.DEVICE_OFFLINE, m.AlertKind.BAD_RATING})
            await photograph(hall, out)
        finally:
            for link in links:
                await link.close()
            await hall.stop()
            broker.stop()
            city.stop()
    print(f"screenshots in {out}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=HERE.parents[1] / "images" / "screenshots")
    asyncio.run(main(parser.parse_args().out))
