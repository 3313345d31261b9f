"""How a person is named on the wire: a keyed hash of the ID number, never the number.

Every part that matches people (kiosks, the online booking system) must hash the same way,
so the function is part of the contract: HMAC-SHA256 with the hall's secret over the
normalised 18-character number, as 64 hex digits.
"""

from __future__ import annotations

import hashlib
import hmac

MIN_SECRET_BYTES = 16


class IdentityError(ValueError):
    """A secret or number that cannot make a hash; the message never repeats the number."""


def id_hash(secret: bytes, number: str) -> str:
    """HMAC-SHA256(secret, normalised number) as 64 hex digits."""
    if len(secret) < MIN_SECRET_BYTES:
        raise IdentityError(f"the hall secret must be at least {MIN_SECRET_BYTES} bytes")
    normalised = number.strip().upper()
    return hmac.new(secret, normalised.encode("ascii"), hashlib.sha256).hexdigest()
