"""Line readers (serial loop://, pty, keyboard stream), the no-serial simulator and open_reader."""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Iterator
from datetime import date

import pytest

from hardware.idcard import (
    CardReadError,
    KeyboardLineReader,
    LineReader,
    LineReaderSimulator,
    ReaderConfigError,
    ReaderNotFound,
    SamReader,
    SamReaderSimulator,
    SimulatedCardReader,
    open_reader,
    sample_card,
)

CARD = sample_card(birth_date=date(1948, 3, 8), sex="F", serial=3)


@pytest.fixture
def loop_reader() -> Iterator[LineReader]:
    reader = LineReader("loop://")
    yield reader
    reader.close()


def test_line_on_loop_gives_number_birth_date_and_sex(loop_reader: LineReader) -> None:
    loop_reader.port.write(CARD.id_number.lower().encode() + b"\r\n")
    card = loop_reader.read_card(timeout=1)
    assert card is not None
    assert (card.id_number, card.birth_date, card.sex) == (CARD.id_number, CARD.birth_date, "F")
    assert (card.name, card.nation, card.address, card.authority) == ("", "", "", "")
    assert loop_reader.read_card(timeout=0.02) is None


def test_line_split_across_writes_is_joined(loop_reader: LineReader) -> None:
    loop_reader.port.write(CARD.id_number[:7].encode())
    assert loop_reader.read_card(timeout=0.02) is None
    loop_reader.port.write(CARD.id_number[7:].encode() + b"\n")
    card = loop_reader.read_card(timeout=1)
    assert card is not None
    assert card.id_number == CARD.id_number


def test_unreadable_line_names_the_problem_and_the_reader_goes_on(loop_reader: LineReader) -> None:
    wrong = CARD.id_number[:17] + ("0" if CARD.id_number[-1] != "0" else "1")
    loop_reader.port.write(b"\r\n" + wrong.encode() + b"\r" + CARD.id_number.encode() + b"\r")
    with pytest.raises(CardReadError, match="unreadable ID line: wrong check character"):
        loop_reader.read_card(timeout=1)
    card = loop_reader.read_card(timeout=1)
    assert card is not None
    assert card.id_number == CARD.id_number


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b"12345\n", "18 characters, got 5"),
        ("３１０１０４１９４８０３０８００４".encode() + b"\n", "not ASCII"),
        (b"7" * 80, "no line end within 64 bytes"),
    ],
)
def test_garbage_lines_are_read_errors(loop_reader: LineReader, line: bytes, reason: str) -> None:
    loop_reader.port.write(line)
    with pytest.raises(CardReadError, match=reason):
        loop_reader.read_card(timeout=1)


def test_line_reader_on_a_pseudo_terminal() -> None:
    simulator = LineReaderSimulator()
    reader = LineReader(simulator.port)
    try:
        simulator.present_card(CARD)
        card = reader.read_card(timeout=2)
    finally:
        reader.close()
        simulator.close()
    assert card is not None
    assert card.id_number == CARD.id_number


def test_keyboard_reader_on_a_pipe_then_end_of_stream() -> None:
    read_end, write_end = os.pipe()
    with os.fdopen(read_end, "r") as stream:
        reader = KeyboardLineReader(stream)
        assert reader.read_card(timeout=0.02) is None
        os.write(write_end, b"\n" + CARD.id_number.encode() + b"\n")
        card = reader.read_card(timeout=1)
        assert card is not None
        assert card.id_number == CARD.id_number
        os.close(write_end)
        with pytest.raises(ReaderNotFound, match="input stream has ended"):
            reader.read_card(timeout=1)


def test_keyboard_reader_on_an_in_memory_stream() -> None:
    reader = KeyboardLineReader(io.StringIO(f"{CARD.id_number}\nnot a number\n"))
    card = reader.read_card(timeout=1)
    assert card is not None
    assert card.birth_date == CARD.birth_date
    with pytest.raises(CardReadError, match="18 characters, got 12"):
        reader.read_card(timeout=1)


def test_simulated_reader_reads_each_presented_card_once_in_order() -> None:
    reader = SimulatedCardReader()
    other = sample_card(serial=9)
    reader.present_card(CARD)
    reader.fail_next_read("card moved")
    reader.present_card(other)
    assert reader.read_card(timeout=1) == CARD
    with pytest.raises(CardReadError, match="card moved"):
        reader.read_card(timeout=1)
    assert reader.read_card(timeout=1) == other
    assert reader.read_card(timeout=0.01) is None


def test_simulated_reader_wakes_a_waiting_read_on_present_and_on_close() -> None:
    reader = SimulatedCardReader()
    results: list[object] = []
    waiting = threading.Thread(target=lambda: results.append(reader.read_card(timeout=5)))
    waiting.start()
    reader.present_card(CARD)
    waiting.join(timeout=5)
    closing = threading.Thread(target=lambda: results.append(reader.read_card(timeout=5)))
    closing.start()
    reader.close()
    closing.join(timeout=5)
    assert results == [CARD, None]


def test_open_reader_defaults_to_the_simulator(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOBBY_CARD_READER", raising=False)
    assert isinstance(open_reader(), SimulatedCardReader)


def test_open_reader_takes_kind_and_port_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LOBBY_CARD_READER", "line")
    monkeypatch.setenv("LOBBY_CARD_READER_PORT", "loop://")
    with open_reader() as reader:
        assert isinstance(reader, LineReader)
    with open_reader("keyboard", stream=io.StringIO()) as reader:
        assert isinstance(reader, KeyboardLineReader)


def test_open_reader_explicit_sam_on_a_simulator(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOBBY_CARD_READER", "sim")
    with SamReaderSimulator() as simulator:
        reader = open_reader("sam", simulator.port, poll_interval=0.01)
        assert isinstance(reader, SamReader)
        simulator.present_card(CARD)
        assert reader.read_card(timeout=2) == CARD
        reader.close()


def test_open_reader_rejects_unknown_kind_and_missing_port(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("LOBBY_CARD_READER_PORT", raising=False)
    with pytest.raises(ReaderConfigError, match=r"'nfc'.*sam, line, keyboard, sim") as failure:
        open_reader("nfc")
    assert isinstance(failure.value, ValueError)
    with pytest.raises(ReaderConfigError, match="needs a port"):
        open_reader("sam")
