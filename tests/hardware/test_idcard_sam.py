"""The SAM (GA/T 467) driver against the reader simulator on a real pseudo-terminal."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import date

import pytest

from hardware.errors import HardwareError
from hardware.idcard import (
    LONG_TERM,
    CardData,
    CardReadError,
    ReaderNotFound,
    SamReader,
    SamReaderSimulator,
    sample_card,
    sample_number,
)
from hardware.idcard.frames import FIND_CARD, Response, build_request, build_response
from hardware.idcard.simulator import PseudoTerminal
from hardware.idcard.textblock import decode_text_block, encode_text_block

FULL_CARD = CardData(
    name="欧阳明月",
    sex="F",
    nation="回",
    birth_date=date(1952, 2, 29),
    address="上海市徐汇区漕溪北路一百二十八弄三十五号六零二室",
    id_number=sample_number(date(1952, 2, 29), "F", 41),
    authority="上海市公安局徐汇分局",
    valid_from=date(2016, 8, 9),
    valid_until=LONG_TERM,
)


@pytest.fixture
def simulator() -> Iterator[SamReaderSimulator]:
    with SamReaderSimulator() as sim:
        yield sim


@pytest.fixture
def reader(simulator: SamReaderSimulator) -> Iterator[SamReader]:
    driver = SamReader(simulator.port, poll_interval=0.02, reply_timeout=1.0)
    yield driver
    driver.close()


def test_frames_match_bytes_captured_from_a_real_reader() -> None:
    assert build_request(FIND_CARD) == bytes.fromhex("AAAAAA9669 0003 2001 22")
    found = build_response(Response(0, 0, 0x9F, bytes(4)))
    assert found == bytes.fromhex("AAAAAA9669 0008 00009F 00000000 97")


def test_text_block_layout_field_by_field() -> None:
    fields = [
        ("欧阳明月", 30), ("2", 2), ("03", 4), ("19520229", 16), (FULL_CARD.address, 70),
        (FULL_CARD.id_number, 36), ("上海市公安局徐汇分局", 30), ("20160809", 16),
        ("长期", 16), ("", 36),
    ]  # fmt: skip
    block = b"".join(
        text.encode("utf-16-le") + b" \x00" * ((size - 2 * len(text)) // 2) for text, size in fields
    )
    assert len(block) == 256
    assert encode_text_block(FULL_CARD) == block
    assert decode_text_block(block) == FULL_CARD


@pytest.mark.parametrize(
    "card",
    [FULL_CARD, sample_card(birth_date=date(1999, 12, 1), sex="M", name="李四")],
    ids=["long-term", "dated"],
)
def test_full_read_decodes_every_field(
    simulator: SamReaderSimulator, reader: SamReader, card: CardData
) -> None:
    simulator.present_card(card)
    got = reader.read_card(timeout=2)
    assert got == card
    assert got is not None
    assert (got.name, got.nation, got.valid_until) == (card.name, card.nation, card.valid_until)
    assert simulator.commands[:4] == [
        "status check",
        "find card",
        "select card",
        "read text and photo",
    ]


def test_no_card_for_a_while_then_a_card(simulator: SamReaderSimulator, reader: SamReader) -> None:
    assert reader.read_card(timeout=0.05) is None
    polls_before = len(simulator.commands)

    def present_after_three_more_polls() -> None:
        if simulator.wait_for_commands(polls_before + 3, timeout=5):
            simulator.present_card(FULL_CARD)

    presenter = threading.Thread(target=present_after_three_more_polls)
    presenter.start()
    got = reader.read_card(timeout=5)
    presenter.join()
    assert got == FULL_CARD
    assert simulator.commands[polls_before : polls_before + 3] == ["find card"] * 3


def test_corrupted_frame_raises_then_next_read_works(
    simulator: SamReaderSimulator, reader: SamReader
) -> None:
    simulator.present_card(FULL_CARD)
    simulator.corrupt_next_frame()
    with pytest.raises(CardReadError, match="checksum error"):
        reader.read_card(timeout=2)
    assert reader.read_card(timeout=2) == FULL_CARD


def test_truncated_frame_raises_after_the_reply_timeout(simulator: SamReaderSimulator) -> None:
    with SamReader(simulator.port, reply_timeout=0.2) as reader:
        simulator.present_card(FULL_CARD)
        simulator.truncate_next_frame()
        with pytest.raises(CardReadError, match="truncated frame: got 0 of 8 bytes"):
            reader.read_card(timeout=2)


def test_card_removed_mid_read(simulator: SamReaderSimulator, reader: SamReader) -> None:
    simulator.present_card(FULL_CARD)
    simulator.remove_card_during_read()
    with pytest.raises(CardReadError, match="removed during read") as failure:
        reader.read_card(timeout=2)
    assert isinstance(failure.value, IOError)
    assert isinstance(failure.value, HardwareError)
    assert reader.read_card(timeout=0.05) is None
    simulator.present_card(FULL_CARD)
    assert reader.read_card(timeout=2) == FULL_CARD


def test_garbage_before_a_header_is_skipped(
    simulator: SamReaderSimulator, reader: SamReader, caplog: pytest.LogCaptureFixture
) -> None:
    simulator.present_card(FULL_CARD)
    simulator.send_garbage(b"\x00\xff\xaa\xaa\x96noise\xaa")
    with caplog.at_level(logging.WARNING, logger="hardware.idcard.frames"):
        assert reader.read_card(timeout=2) == FULL_CARD
    assert "skipped 11 stray bytes" in caplog.text


def test_card_left_on_the_reader_is_read_once_until_removed(
    simulator: SamReaderSimulator, reader: SamReader
) -> None:
    simulator.present_card(FULL_CARD)
    assert reader.read_card(timeout=2) == FULL_CARD
    polls_before = len(simulator.commands)
    for _ in range(3):
        assert reader.read_card(timeout=0) is None
    assert simulator.commands[polls_before:] == ["find card"] * 3
    simulator.remove_card()
    assert reader.read_card(timeout=0) is None
    simulator.present_card(FULL_CARD)
    assert reader.read_card(timeout=2) == FULL_CARD


def test_card_with_a_bad_number_is_a_read_error(
    simulator: SamReaderSimulator, reader: SamReader
) -> None:
    number = FULL_CARD.id_number
    wrong_check = "0" if number[-1] != "0" else "1"
    bad = replace(FULL_CARD, id_number=number[:17] + wrong_check)
    simulator.present_card(bad)
    with pytest.raises(CardReadError, match="ID number is invalid: wrong check character"):
        reader.read_card(timeout=2)


def test_missing_port_is_reader_not_found() -> None:
    with pytest.raises(ReaderNotFound, match="/dev/no-such-reader") as failure:
        SamReader("/dev/no-such-reader")
    assert isinstance(failure.value, OSError)


def test_silent_port_is_reader_not_found() -> None:
    silent = PseudoTerminal()
    try:
        with pytest.raises(ReaderNotFound, match=r"no answer .* to status check within 0\.1 s"):
            SamReader(silent.port, reply_timeout=0.1)
    finally:
        silent.close()


def test_port_that_echoes_is_not_a_reader() -> None:
    with pytest.raises(ReaderNotFound, match="does not answer like an ID-card reader"):
        SamReader("loop://", reply_timeout=0.1)
