"""Who swiped: a keyed hash of the ID number and the green-channel flag, and nothing else.

The card's raw number, name and address stay in the kiosk process, and only for as long
as it takes to compute a `Resident`. The hash is HMAC-SHA256 over the normalised
18-character number with today's key (protocol/identity.py: derived from the hall secret and
the date), so the controller can match one person's tickets and appointments of the day
without ever learning who they are, and nobody can link one person's days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from hardware.idcard import CardData, parse_id_number
from protocol.identity import IdentityError, id_hash

DEFAULT_GREEN_AGE = 70


@dataclass(frozen=True, slots=True)
class Resident:
    """What the kiosk keeps of a swiped card: the keyed hash and the green-channel flag."""

    id_hash: str
    green: bool

    def __repr__(self) -> str:
        return f"Resident(id_hash='{self.id_hash[:8]}…', green={self.green})"


def is_green(birth_date: date, today: date, green_age: int = DEFAULT_GREEN_AGE) -> bool:
    """True when the resident is ``green_age`` or older on ``today``."""
    before_birthday = (today.month, today.day) < (birth_date.month, birth_date.day)
    return today.year - birth_date.year - int(before_birthday) >= green_age


def resident_from_card(card: CardData, secret: bytes, today: date,
                       green_age: int = DEFAULT_GREEN_AGE) -> Resident:
    """The Resident of a card on ``today`` (the hall's date): validate its number, hash it with
    today's key, and work out the green channel. A bad number is only called not valid: what
    is wrong with it (a check character) would help whoever forges one."""
    try:
        number = parse_id_number(card.id_number, today=today)
    except ValueError:
        raise IdentityError("the card's ID number is not valid") from None
    return Resident(id_hash=id_hash(secret, today, number.number),
                    green=is_green(number.birth_date, today, green_age))
