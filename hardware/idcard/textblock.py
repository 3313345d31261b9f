"""The card's 256-byte text block (UCS-2 little endian, space-padded fields), both ways."""

from __future__ import annotations

from datetime import date

from hardware.idcard.card import LONG_TERM, CardData, nation_code, nation_name
from hardware.idcard.errors import CardReadError
from hardware.idcard.number import parse_id_number

TEXT_BLOCK_SIZE = 256
PHOTO_SIZE = 1024
LONG_TERM_TEXT = "长期"

FIELDS = (
    ("name", 30),
    ("sex", 2),
    ("nation", 4),
    ("birth_date", 16),
    ("address", 70),
    ("id_number", 36),
    ("authority", 30),
    ("valid_from", 16),
    ("valid_until", 16),
    ("reserved", 36),
)
"""Field names and their sizes in bytes, in block order (two bytes per character)."""

_SEX_CODES = {"1": "M", "2": "F"}
_PADDING = " \x00"


def split_text_block(block: bytes) -> dict[str, str]:
    """Decode the block into its fields, padding stripped."""
    if len(block) != TEXT_BLOCK_SIZE:
        raise CardReadError(f"text block has {len(block)} bytes, expected {TEXT_BLOCK_SIZE}")
    fields: dict[str, str] = {}
    offset = 0
    for name, size in FIELDS:
        raw = block[offset : offset + size]
        offset += size
        try:
            fields[name] = raw.decode("utf-16-le").rstrip(_PADDING)
        except UnicodeDecodeError:
            raise CardReadError(f"card field {name!r} is not valid UCS-2 text") from None
    return fields


def decode_text_block(block: bytes, today: date | None = None) -> CardData:
    """Turn the text block a reader returned into CardData, checking the number and dates."""
    fields = split_text_block(block)
    try:
        number = parse_id_number(fields["id_number"], today=today)
    except ValueError as reason:
        raise CardReadError(f"the card's ID number is invalid: {reason}") from None
    birth_date = _field_date(fields["birth_date"], "birth date")
    if birth_date != number.birth_date:
        raise CardReadError("the card's birth date does not match its ID number")
    valid_until = fields["valid_until"]
    return CardData(
        name=fields["name"],
        sex=_SEX_CODES.get(fields["sex"], number.sex),
        nation=nation_name(fields["nation"]),
        birth_date=birth_date,
        address=fields["address"],
        id_number=number.number,
        authority=fields["authority"],
        valid_from=_field_date(fields["valid_from"], "valid from"),
        valid_until=(
            LONG_TERM if valid_until == LONG_TERM_TEXT else _field_date(valid_until, "valid until")
        ),
    )


def encode_text_block(card: CardData) -> bytes:
    """The text block a certified reader would return for `card`."""
    sex_codes = {sex: code for code, sex in _SEX_CODES.items()}
    values = {
        "name": card.name,
        "sex": sex_codes.get(card.sex, "0"),
        "nation": nation_code(card.nation) if card.nation else "",
        "birth_date": _date_text(card.birth_date),
        "address": card.address,
        "id_number": card.id_number,
        "authority": card.authority,
        "valid_from": _date_text(card.valid_from),
        "valid_until": _date_text(card.valid_until),
        "reserved": "",
    }
    block = b""
    for name, size in FIELDS:
        encoded = values[name].encode("utf-16-le")
        if len(encoded) > size:
            raise ValueError(f"card field {name!r} is too long: at most {size // 2} characters")
        block += encoded + " ".encode("utf-16-le") * ((size - len(encoded)) // 2)
    return block


def _field_date(text: str, what: str) -> date:
    """A YYYYMMDD field as a date, or CardReadError naming the field."""
    try:
        if len(text) != 8 or not text.isascii():
            raise ValueError(text)
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        raise CardReadError(f"card field {what!r} is not a date YYYYMMDD") from None


def _date_text(day: date | None) -> str:
    """A date as the card writes it: YYYYMMDD, 长期 for life, empty when unknown."""
    if day is None:
        return ""
    if day == LONG_TERM:
        return LONG_TERM_TEXT
    return f"{day:%Y%m%d}"
