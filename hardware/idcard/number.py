"""Resident ID numbers (GB 11643-1999): the one validator, and masking for anything printed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

NUMBER_LENGTH = 18
_DIGITS = frozenset("0123456789")
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARACTERS = "10X98765432"


def check_character(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character for the first 17 digits of a number."""
    if len(first17) != NUMBER_LENGTH - 1 or not set(first17) <= _DIGITS:
        raise ValueError("the check character needs exactly 17 digits")
    total = sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARACTERS[total % 11]


def mask_number(number: str) -> str:
    """Show only the first 3 and last 2 characters, so a number never leaks into logs."""
    if len(number) <= 5:
        return "*" * len(number)
    return number[:3] + "*" * (len(number) - 5) + number[-2:]


@dataclass(frozen=True, repr=False)
class IdNumber:
    """A validated resident ID number; prints masked, the raw text is only in `number`."""

    number: str
    birth_date: date
    sex: str

    def age_on(self, day: date) -> int:
        """Age in completed years on `day` (the green channel starts at 70)."""
        return age_on(self.birth_date, day)

    @property
    def masked(self) -> str:
        """The number with all but the first 3 and last 2 characters hidden."""
        return mask_number(self.number)

    def __repr__(self) -> str:
        return f"IdNumber('{self.masked}')"

    def __str__(self) -> str:
        return self.masked


def age_on(birth_date: date, day: date) -> int:
    """Completed years between `birth_date` and `day`."""
    if day < birth_date:
        raise ValueError("the day is before the birth date")
    before_birthday = (day.month, day.day) < (birth_date.month, birth_date.day)
    return day.year - birth_date.year - int(before_birthday)


def parse_id_number(text: str, today: date | None = None) -> IdNumber:
    """Validate an 18-character resident ID number; ValueError names what is wrong.

    The messages never repeat the number itself, so they are safe to log.
    """
    number = text.strip().upper()
    _check_characters(number)
    birth_date = _birth_date(number[6:14], today or date.today())
    expected = check_character(number[:17])
    if number[17] != expected:
        raise ValueError(f"wrong check character: expected {expected!r}, got {text.strip()[17]!r}")
    sex = "M" if int(number[14:17]) % 2 == 1 else "F"
    return IdNumber(number=number, birth_date=birth_date, sex=sex)


def _check_characters(number: str) -> None:
    """Length, digits, a final digit or X, and a plausible area code."""
    if len(number) != NUMBER_LENGTH:
        raise ValueError(f"an ID number has 18 characters, got {len(number)}")
    for position, character in enumerate(number[:17], start=1):
        if character not in _DIGITS:
            raise ValueError(f"character {position} must be a digit")
    if number[17] not in _DIGITS and number[17] != "X":
        raise ValueError("character 18 must be a digit or X")
    if number[0] == "0":
        raise ValueError("the area code (characters 1-6) cannot start with 0")


def _birth_date(field: str, today: date) -> date:
    """The birth date in characters 7-14: a real calendar date, not in the future."""
    try:
        birth_date = date(int(field[:4]), int(field[4:6]), int(field[6:8]))
    except ValueError:
        raise ValueError("the birth date (characters 7-14) is not a real calendar date") from None
    if birth_date > today:
        raise ValueError("the birth date (characters 7-14) is in the future")
    return birth_date
