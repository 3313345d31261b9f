"""A kiosk runtime on a real broker follows its nearby centres' summaries: the latest one per
centre, judged stale on the kiosk's own clock, and malformed ones logged and ignored."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest
from kiosk_support import HALL, MakeKiosk
from support.broker import connect

from broker_config.process import MosquittoProcess
from hall.clock import VirtualClock
from hall.controller import Controller
from hardware.idcard import SimulatedCardReader
from hardware.printer import SimulatedPrinter
from kiosk.events import Phase
from protocol import messages as m
from protocol.topics import HallTopics

TOPIC = HallTopics(HALL).nearby("xujiahui")


def summary(at: datetime, waiting: int, wait: float, hall: str = "xujiahui") -> bytes:
    return m.encode(m.HallSummary(
        hall=hall, name="徐家汇街道社区事务受理服务中心", name_en="Xujiahui Centre", at=at,
        counters_open=8, issued_today=40, served_today=20,
        services=[m.ServiceSummary(service="A", name="社会保险与就业", waiting=waiting,
                                   estimated_wait_min=wait)]))


async def test_the_kiosk_shows_the_latest_summary_and_ignores_malformed_ones(
        make_kiosk: MakeKiosk, controller: Controller, fresh_broker: MosquittoProcess,
        caplog: pytest.LogCaptureFixture) -> None:
    reader = SimulatedCardReader()
    kiosk = await make_kiosk(lambda: reader, SimulatedPrinter())
    # The city bridge writes here past the hall's ACL; of the hall's accounts only the
    # controller's may, so it stands in for the bridge.
    bridge = await asyncio.to_thread(connect, fresh_broker.broker_settings("controller"))
    try:
        now = controller.clock.now()
        await asyncio.to_thread(bridge.publish, TOPIC, summary(now, 6, 12.0), retain=True)
        await kiosk.wait_for(lambda flow: "xujiahui" in flow.nearby, 5.0)
        (centre,) = kiosk.view().nearby
        assert (centre.name, centre.waiting, centre.wait) == ("徐家汇街道", "等候 6 人",
                                                             "约 12 分钟")

        for bad in (b"{not json", b'{"v":1,"hall":"xujiahui"}', summary(now, 1, 1.0, "jingan")):
            await asyncio.to_thread(bridge.publish, TOPIC, bad, retain=True)
        await asyncio.to_thread(bridge.publish, TOPIC, summary(now, 2, 4.0), retain=True)
        await kiosk.wait_for(lambda flow: flow.nearby["xujiahui"].services[0].waiting == 2, 5.0)
        assert kiosk.flow.phase is Phase.IDLE
        assert [c.wait for c in kiosk.view().nearby] == ["约 4 分钟"]
        warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
        assert sum(f"bad payload on {TOPIC}" in w for w in warnings) == 2
        assert any("nearby centre xujiahui is not that centre's" in w for w in warnings)

        clock = controller.clock
        assert isinstance(clock, VirtualClock)  # the kiosk's clock too
        clock.advance(181)
        (stale,) = kiosk.view().nearby
        assert (stale.current, stale.wait) == (False, "暂无数据")

        await asyncio.to_thread(bridge.publish, TOPIC, b"", retain=True)  # cleared
        await kiosk.wait_for(lambda flow: not flow.nearby, 5.0)
        assert kiosk.view().nearby == ()
    finally:
        bridge.close()
