"""The keyed hash and the green channel; nothing personal in what the kiosk shows or sends."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import replace
from datetime import date, timedelta

import pytest

from hardware.idcard import sample_card
from kiosk.identity import IdentityError, Resident, is_green, resident_from_card
from kiosk.samples import SAMPLE_NOW, SCREENS
from kiosk.view import build_view
from protocol.identity import id_hash, key_for

SECRET = b"test-hall-secret-0123456789abcdef"
TODAY = date(2026, 3, 16)


def test_the_hash_is_hmac_sha256_of_the_normalised_number_with_the_days_key() -> None:
    card = sample_card(date(1956, 3, 16), serial=4)
    key = hmac.new(SECRET, b"id-hash:2026-03-16", hashlib.sha256).digest()
    assert key_for(SECRET, TODAY) == key
    expected = hmac.new(key, card.id_number.encode(), hashlib.sha256).hexdigest()
    assert id_hash(SECRET, TODAY, card.id_number) == expected
    assert id_hash(SECRET, TODAY, f"  {card.id_number.lower()} ") == expected
    assert id_hash(b"another-hall-secret-0123456789", TODAY, card.id_number) != expected
    assert resident_from_card(card, SECRET, TODAY).id_hash == expected


def test_one_residents_hashes_differ_every_day_of_a_year() -> None:
    card = sample_card(date(1980, 5, 17), serial=9)
    days = [TODAY + timedelta(days=n) for n in range(366)]
    hashes = {resident_from_card(card, SECRET, day).id_hash for day in days}
    assert len(hashes) == len(days)
    assert len({key_for(SECRET, day) for day in days}) == len(days)


def test_a_short_secret_is_refused() -> None:
    with pytest.raises(IdentityError, match="at least 16 bytes"):
        id_hash(b"short", TODAY, "310104198005170011")
    with pytest.raises(IdentityError, match="at least 16 bytes"):
        key_for(b"short", TODAY)


@pytest.mark.parametrize(("born", "green"), [
    (date(1956, 3, 16), True),  # 70 today
    (date(1956, 3, 17), False),  # 70 tomorrow
    (date(1940, 1, 1), True),
    (date(1990, 6, 1), False),
])
def test_green_from_the_birth_date(born: date, green: bool) -> None:
    assert is_green(born, TODAY) is green
    resident = resident_from_card(sample_card(born), SECRET, TODAY)
    assert resident.green is green


def test_the_green_age_is_the_halls() -> None:
    card = sample_card(date(1961, 1, 1))
    assert not resident_from_card(card, SECRET, TODAY).green
    assert resident_from_card(card, SECRET, TODAY, green_age=65).green


def test_a_resident_keeps_only_the_hash_and_the_flag() -> None:
    card = sample_card(date(1950, 2, 2), name="王秀英")
    resident = resident_from_card(card, SECRET, TODAY)
    assert set(Resident.__slots__) == {"id_hash", "green"}
    assert card.id_number not in repr(resident) and resident.id_hash not in repr(resident)


def test_a_bad_number_is_refused_without_repeating_it() -> None:
    card = sample_card(date(1980, 5, 17))
    broken = replace(card, id_number=card.id_number[:17] + ("0" if card.id_number[17] != "0"
                                                            else "1"))
    with pytest.raises(IdentityError) as caught:
        resident_from_card(broken, SECRET, TODAY)
    assert str(caught.value) == "the card's ID number is not valid"
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


@pytest.mark.parametrize("bad", ["", "31010419800517001", "3101041980051700111",
                                 "31010419801317001X", "A10104198005170011", "010104198005170011"])
def test_every_bad_number_gets_the_same_message(bad: str) -> None:
    card = replace(sample_card(date(1980, 5, 17)), id_number=bad)
    with pytest.raises(IdentityError, match=r"^the card's ID number is not valid$"):
        resident_from_card(card, SECRET, TODAY)


@pytest.mark.parametrize("screen", sorted(SCREENS))
def test_no_screen_shows_anything_of_the_card(screen: str) -> None:
    flow = SCREENS[screen]()
    text = repr(build_view(flow, SAMPLE_NOW))
    if flow.session is not None:
        assert flow.session.resident.id_hash[:8] not in text
    assert "5e5e5e5e" not in text and "7a7a7a7a" not in text
