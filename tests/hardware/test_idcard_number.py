"""The ID-number validator, masking and the sample-card helper."""

from __future__ import annotations

from datetime import date

import pytest

from hardware.idcard import CardData, IdNumber, parse_id_number, sample_card, sample_number
from hardware.idcard.card import LONG_TERM, MAX_SERIAL
from hardware.idcard.number import check_character, mask_number

TODAY = date(2025, 6, 1)
GB_EXAMPLE_FEMALE = "11010519491231002X"
GB_EXAMPLE_MALE = "440524188001010014"


@pytest.mark.parametrize(
    ("first17", "expected"),
    [("11010519491231002", "X"), ("44052418800101001", "4"), ("31010419800517001", "8")],
)
def test_check_character_matches_hand_computed_values(first17: str, expected: str) -> None:
    assert check_character(first17) == expected


def test_valid_number_gives_birth_date_and_sex() -> None:
    female = parse_id_number(GB_EXAMPLE_FEMALE, today=TODAY)
    male = parse_id_number(GB_EXAMPLE_MALE, today=TODAY)
    assert (female.number, female.birth_date, female.sex) == (
        GB_EXAMPLE_FEMALE,
        date(1949, 12, 31),
        "F",
    )
    assert (male.birth_date, male.sex) == (date(1880, 1, 1), "M")


def test_lowercase_x_and_surrounding_whitespace_are_accepted() -> None:
    parsed = parse_id_number("  11010519491231002x\r\n", today=TODAY)
    assert parsed.number == GB_EXAMPLE_FEMALE


def test_feb_29_is_valid_in_a_leap_year() -> None:
    number = sample_number(date(2024, 2, 29), "F")
    assert parse_id_number(number, today=TODAY).birth_date == date(2024, 2, 29)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("11010519491231002", "18 characters, got 17"),
        ("11010519491231002X1", "18 characters, got 19"),
        ("", "18 characters, got 0"),
        ("1101A519491231002X", "character 5 must be a digit"),
        ("11010519491231002Y", "character 18 must be a digit or X"),
        ("01010519491231002X", "area code"),
        ("110105194913310021", "not a real calendar date"),
        ("110105202302290021", "not a real calendar date"),
        ("110105190002290021", "not a real calendar date"),
        ("110105203001010021", "in the future"),
        ("110105194912310021", "wrong check character: expected 'X', got '1'"),
        ("11010519491231002Ｘ", "character 18 must be a digit or X"),
    ],
)
def test_each_failure_names_its_reason(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason) as failure:
        parse_id_number(text, today=TODAY)
    if len(text) > 10:
        assert text not in str(failure.value)


def test_the_day_after_today_is_in_the_future() -> None:
    tomorrow = sample_number(date(2025, 6, 2))
    with pytest.raises(ValueError, match="in the future"):
        parse_id_number(tomorrow, today=TODAY)
    assert parse_id_number(tomorrow, today=date(2025, 6, 2)).birth_date == date(2025, 6, 2)


def test_repr_and_str_mask_the_number() -> None:
    parsed = parse_id_number(GB_EXAMPLE_FEMALE, today=TODAY)
    assert str(parsed) == "110*************2X"
    assert repr(parsed) == "IdNumber('110*************2X')"
    assert GB_EXAMPLE_FEMALE not in f"{parsed} {parsed!r} {[parsed]}"
    assert mask_number("1234") == "****"


@pytest.mark.parametrize(
    ("day", "age"),
    [(date(2025, 6, 14), 69), (date(2025, 6, 15), 70), (date(1955, 6, 15), 0)],
)
def test_age_turns_on_the_birthday(day: date, age: int) -> None:
    number = IdNumber("x", date(1955, 6, 15), "M")
    assert number.age_on(day) == age


def test_leap_day_birthday_ages_on_first_of_march_in_common_years() -> None:
    number = parse_id_number(sample_number(date(2004, 2, 29)), today=TODAY)
    assert number.age_on(date(2025, 2, 28)) == 20
    assert number.age_on(date(2025, 3, 1)) == 21
    with pytest.raises(ValueError, match="before the birth date"):
        number.age_on(date(2000, 1, 1))


@pytest.mark.parametrize("sex", ["M", "F"])
def test_sample_card_has_a_valid_number_of_the_right_sex(sex: str) -> None:
    card = sample_card(birth_date=date(1950, 1, 1), sex=sex, serial=7)
    parsed = parse_id_number(card.id_number)
    assert card.id_number.startswith("310104")
    assert (parsed.birth_date, parsed.sex, card.sex) == (date(1950, 1, 1), sex, sex)
    assert card.valid_until == LONG_TERM


def test_sample_numbers_differ_by_serial_and_sex() -> None:
    numbers = {sample_number(date(1990, 1, 1), sex, serial) for sex in "MF" for serial in (0, 498)}
    assert len(numbers) == 4
    with pytest.raises(ValueError, match="serial must be between 0 and"):
        sample_number(date(1990, 1, 1), "M", -1)
    with pytest.raises(ValueError, match="sex"):
        sample_number(date(1990, 1, 1), "X")


@pytest.mark.parametrize("sex", ["M", "F"])
def test_every_serial_of_a_long_demo_day_gives_its_own_valid_number(sex: str) -> None:
    """The simulated hall numbers its residents 1, 2, ... for days on end: each serial gives a
    distinct number that parses back to the same birth date and sex (the card once stopped
    at serial 498, and the demo lost every resident after the 498th)."""
    born = date(1990, 1, 1)
    serials = [*range(0, 5000), 123_456, MAX_SERIAL]
    numbers = [sample_number(born, sex, serial) for serial in serials]
    assert len(set(numbers)) == len(serials)
    for number in numbers:
        parsed = parse_id_number(number, today=TODAY)
        assert (parsed.birth_date, parsed.sex) == (born, sex)
    with pytest.raises(ValueError, match=f"serial must be between 0 and {MAX_SERIAL}"):
        sample_number(born, sex, MAX_SERIAL + 1)


def test_sample_card_validity_follows_age_at_issue() -> None:
    assert sample_card(birth_date=date(2010, 1, 1)).valid_until == date(2025, 3, 1)
    assert sample_card(birth_date=date(2000, 1, 1)).valid_until == date(2030, 3, 1)
    assert sample_card(birth_date=date(1990, 1, 1)).valid_until == date(2040, 3, 1)


def test_card_repr_hides_name_and_number() -> None:
    card = sample_card(name="王小明")
    shown = f"{card!r} {card} {[card]}"
    assert "王小明" not in shown
    assert card.id_number not in shown
    assert mask_number(card.id_number) in shown


def test_card_from_number_keeps_only_what_the_number_says() -> None:
    card = CardData.from_number(parse_id_number(GB_EXAMPLE_MALE))
    assert (card.id_number, card.birth_date, card.sex) == (GB_EXAMPLE_MALE, date(1880, 1, 1), "M")
    assert (card.name, card.address, card.valid_until) == ("", "", None)
    assert card.age_on(date(1950, 1, 1)) == 70
