"""Which clips an announcement plays, in which order: pure logic, no audio."""

from __future__ import annotations

import logging

import pytest

from display.voice.phrase import (
    PAUSES,
    Pauses,
    Segment,
    announcement_clips,
    announcement_plan,
    chinese_number,
    english_number,
    window_number,
)
from voice.errors import UnspeakableError
from voice.pack import ALL_KEYS


def mandarin(*middle: str) -> list[str]:
    """请 <ticket> 号到 <window> 号窗口办理 around the given ticket and window keys."""
    ticket, window = middle[0].split(), middle[1].split()
    return ["qing", *ticket, "hao_dao", *window, "hao_chuangkou_banli"]


@pytest.mark.parametrize(
    ("number", "window", "ticket_keys", "window_keys"),
    [
        ("A012", "3", "letter_A digit_0 digit_1 digit_2", "digit_3"),
        ("B101", "12", "letter_B digit_1 digit_0 digit_1", "num_shi digit_2"),
        ("C007", "21", "letter_C digit_0 digit_0 digit_7", "digit_2 num_shi digit_1"),
        ("D100", "10", "letter_D digit_1 digit_0 digit_0", "num_shi"),
        ("G999", "20", "letter_G digit_9 digit_9 digit_9", "digit_2 num_shi"),
        ("E0042", "99", "letter_E digit_0 digit_0 digit_4 digit_2", "digit_9 num_shi digit_9"),
    ],
)
def test_mandarin_call_is_chime_then_phrase_twice(
    number: str, window: str, ticket_keys: str, window_keys: str
) -> None:
    phrase = mandarin(ticket_keys, window_keys)
    assert announcement_clips(number, window) == ["chime", *phrase, *phrase]


def test_repeat_count_sets_how_often_the_phrase_is_said() -> None:
    phrase = mandarin("letter_A digit_0 digit_1 digit_2", "digit_3")
    assert announcement_clips("A012", "3", repeat=1) == ["chime", *phrase]
    assert announcement_clips("A012", "3", repeat=3) == ["chime", *phrase, *phrase, *phrase]


def test_english_follows_each_mandarin_phrase() -> None:
    cmn = mandarin("letter_B digit_1 digit_0 digit_1", "num_shi digit_2")
    en = [
        "en_number",
        "en_letter_B",
        "en_digit_1",
        "en_digit_0",
        "en_digit_1",
        "en_please_go_to_window",
        "en_num_12",
    ]
    assert announcement_clips("B101", "12", english=True) == ["chime", *cmn, *en, *cmn, *en]


@pytest.mark.parametrize(
    ("window", "keys"),
    [
        ("3", ["en_digit_3"]),
        ("10", ["en_num_10"]),
        ("21", ["en_num_20", "en_digit_1"]),
        ("40", ["en_num_40"]),
        ("17", ["en_num_17"]),
    ],
)
def test_english_window_numbers(window: str, keys: list[str]) -> None:
    assert announcement_clips("C007", window, english=True, repeat=1)[-len(keys) :] == keys


def test_every_number_from_1_to_99_uses_only_pack_keys() -> None:
    for n in range(1, 100):
        assert set(chinese_number(n)) <= set(ALL_KEYS), n
        assert set(english_number(n)) <= set(ALL_KEYS), n
    assert chinese_number(1) == ["digit_1"]
    assert chinese_number(11) == ["num_shi", "digit_1"]
    assert english_number(99) == ["en_num_90", "en_digit_9"]


def test_window_ids_that_are_numbers() -> None:
    assert window_number("3") == 3
    assert window_number("03") == 3
    assert window_number(" 12 ") == 12
    assert window_number("１２") == 12
    assert window_number("0") is None
    assert window_number("100") is None
    assert window_number("B2") is None


def test_window_id_that_is_not_a_number_is_spelled_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="display.voice.phrase"):
        clips = announcement_clips("A012", "b2", english=True, repeat=1)
    assert clips[6:9] == ["hao_dao", "letter_B", "digit_2"]
    assert clips[-2:] == ["en_letter_B", "en_digit_2"]
    assert "window 'b2' is not a number from 1 to 99: spelling it" in caplog.text


def test_window_100_is_spelled_digit_by_digit() -> None:
    assert announcement_clips("A001", "100", repeat=1)[6:10] == [
        "hao_dao",
        "digit_1",
        "digit_0",
        "digit_0",
    ]


def test_lower_case_and_full_width_ticket_numbers_are_read_as_letters() -> None:
    assert announcement_clips("a012", "3") == announcement_clips("Ａ０１２", "3")
    assert announcement_clips("a012", "3")[2] == "letter_A"


@pytest.mark.parametrize(
    ("number", "window", "problem"),
    [
        ("A0-12", "3", "ticket number 'A0-12': no clip can say '-'"),
        ("", "3", "ticket number is empty"),
        ("A012", "综合", "window id '综合': no clip can say '综'"),
        ("A012", " ", "window id is empty"),
        ("A0123456789", "3", "longer than 8 characters"),
    ],
)
def test_unspeakable_input_gets_an_error_naming_it(number: str, window: str, problem: str) -> None:
    with pytest.raises(UnspeakableError, match=problem):
        announcement_clips(number, window)


@pytest.mark.parametrize("repeat", [0, 6])
def test_repeat_out_of_range_is_refused(repeat: int) -> None:
    with pytest.raises(UnspeakableError, match=f"repeat {repeat}"):
        announcement_clips("A012", "3", repeat=repeat)


def test_pauses_are_short_inside_numbers_and_long_between_repetitions() -> None:
    plan = announcement_plan("A012", "21", english=True, repeat=2)
    assert plan[0] == Segment("chime", PAUSES.after_chime)
    assert plan[2] == Segment("letter_A", PAUSES.in_number)
    assert plan[5] == Segment("digit_2", PAUSES.between_words)
    assert plan[7] == Segment("digit_2", PAUSES.in_number)
    assert plan[9] == Segment("digit_1", PAUSES.between_words)
    assert plan[10] == Segment("hao_chuangkou_banli", PAUSES.between_languages)
    assert plan[18] == Segment("en_digit_1", PAUSES.between_repeats)
    assert plan[19] == Segment("qing", PAUSES.between_words)
    assert plan[-1] == Segment("en_digit_1", 0.0)
    assert len(plan) == 1 + 2 * 18
    custom = announcement_plan("A012", "3", repeat=1, pauses=Pauses(after_chime=1.0))
    assert custom[0] == Segment("chime", 1.0)
