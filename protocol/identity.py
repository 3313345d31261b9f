"""How a person is named on the wire: a keyed hash of the ID number, never the number.

Every part that matches people (kiosks, the online booking system) must hash the same way,
so the function is part of the contract: HMAC-SHA256 over the normalised 18-character
number, as 64 hex digits, keyed by the day's key ``key_for(secret, day)`` =
HMAC-SHA256(hall secret, "id-hash:" + ISO date). A kiosk hashes with the key of today (the
hall's time zone); the booking system hashes an appointment with the key of its slot's day.
So one resident's hashes of different days cannot be linked, and a day's hashes are useful
only on that day (the journal erases them once the day is over: hall/journal.py).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import date

MIN_SECRET_BYTES = 16
KEY_LABEL = b"id-hash:"


class IdentityError(ValueError):
    """A secret or number that cannot make a hash; the message never repeats the number."""


def key_for(secret: bytes, day: date) -> bytes:
    """The day's hashing key: HMAC-SHA256(secret, "id-hash:" + ISO date)."""
    if len(secret) < MIN_SECRET_BYTES:
        raise IdentityError(f"the hall secret must be at least {MIN_SECRET_BYTES} bytes")
    return hmac.new(secret, KEY_LABEL + day.isoformat().encode("ascii"), hashlib.sha256).digest()


def id_hash(secret: bytes, day: date, number: str) -> str:
    """The number's hash on ``day``: HMAC-SHA256(key_for(secret, day), normalised number)."""
    normalised = number.strip().upper()
    return hmac.new(key_for(secret, day), normalised.encode("ascii"), hashlib.sha256).hexdigest()
