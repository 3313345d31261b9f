"""Clerk sign-in by staff card: a line reader on pyserial's loop://, then the whole path."""

from __future__ import annotations

import asyncio
import tomllib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from support.hall import SECRET, hall_config, start_controller

from broker_config.process import MosquittoProcess
from caller.app import CallerApp
from caller.devices import StaffCardReader
from caller.settings import CallerSettings
from hall.controller import Controller
from hallconfig import staff_card_hash
from hardware.idcard.errors import CardReadError
from protocol.device import DeviceConfigError, load_device_settings

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "caller-3.toml"
CARD = "0004123456"


@pytest.fixture
def reader() -> Iterator[StaffCardReader]:
    opened = StaffCardReader("loop://")
    yield opened
    opened.close()


def test_a_card_line_is_read_as_it_is(reader: StaffCardReader) -> None:
    reader.port.write(f"\r\n{CARD}\r\n".encode())
    assert reader.read_line(2.0) == CARD


def test_no_card_within_the_timeout_is_none(reader: StaffCardReader) -> None:
    assert reader.read_line(0.05) is None


def test_a_garbled_card_is_an_error_that_does_not_repeat_it(reader: StaffCardReader) -> None:
    reader.port.write(b"12-34 56\n")
    with pytest.raises(CardReadError, match="4-32 letters or digits") as caught:
        reader.read_line(2.0)
    assert "12-34" not in str(caught.value)
    reader.port.write(b"9" * 80)
    with pytest.raises(CardReadError, match="no line end"):
        reader.read_line(2.0)


def card_settings(broker: MosquittoProcess) -> CallerSettings:
    raw = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    del raw["pins"]
    raw["broker"] = broker.broker_settings("caller-3").model_dump()
    raw["signin"] = {"method": "card", "reader": {"port": "loop://"}}
    return CallerSettings.model_validate(raw)


@pytest.fixture
async def hall(fresh_broker: MosquittoProcess, tmp_path: Path) -> AsyncIterator[Controller]:
    config = hall_config()
    clerks = [c.model_copy(update={"card_hash": staff_card_hash(SECRET, CARD)})
              if c.staff_no == "S003" else c for c in config.clerks]
    controller = await start_controller(fresh_broker, tmp_path, staffed=False,
                                        config=config.model_copy(update={"clerks": clerks}))
    yield controller
    await controller.stop()


async def test_a_swipe_signs_the_clerk_in_and_a_second_swipe_signs_out(
        hall: Controller, fresh_broker: MosquittoProcess) -> None:
    app = CallerApp(card_settings(fresh_broker))
    changed = asyncio.Event()
    app.station.on_change(changed.set)

    async def until_clerk(staff_no: str | None) -> None:
        async with asyncio.timeout(10):
            while True:
                state = app.station.session.state
                clerk = state.clerk.staff_no if state and state.clerk else None
                if state is not None and clerk == staff_no:
                    return
                changed.clear()
                await changed.wait()

    await app.start()
    try:
        assert app.cards is not None
        await until_clerk(None)
        app.cards.reader.port.write(f"{CARD}\r\n".encode())
        await until_clerk("S003")
        assert hall.engine.desks["3"].clerk == "S003"
        state = app.station.session.state
        assert state is not None and state.clerk is not None and state.clerk.name == "张敏"

        app.cards.reader.port.write(f"{CARD}\r\n".encode())
        await until_clerk(None)
        assert hall.engine.desks["3"].clerk is None
    finally:
        await app.stop()


def test_card_sign_in_without_a_reader_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "caller.toml"
    path.write_text('[device]\nid = "caller-3"\nhall = "tianping"\n[counter]\nid = "3"\n'
                    '[signin]\nmethod = "card"\n', encoding="utf-8")
    with pytest.raises(DeviceConfigError, match=r"signin: .*needs \[signin.reader\]"):
        load_device_settings(path, CallerSettings)
