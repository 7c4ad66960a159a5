"""Opaque keyset cursors: the sort key of the last row seen, bound to the ordering
it came from and signed, so a cursor cannot be forged, edited or replayed against
another list. Anything malformed is BAD_USER_INPUT."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime
from typing import Final

from resolvers.errors import BadUserInput

SIG_BYTES: Final = 12
INVALID: Final = "The cursor is not valid for this list."

Key = tuple[datetime | int, str]


def encode(secret: bytes, ordering: str, key: Key) -> str:
    first = key[0].isoformat() if isinstance(key[0], datetime) else key[0]
    raw = json.dumps([ordering, first, key[1]], separators=(",", ":")).encode()
    sig = hmac.new(secret, raw, hashlib.sha256).digest()[:SIG_BYTES]
    return base64.urlsafe_b64encode(sig + raw).decode().rstrip("=")


def decode(secret: bytes, ordering: str, cursor: str) -> Key:
    try:
        blob = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        sig, raw = blob[:SIG_BYTES], blob[SIG_BYTES:]
        if not hmac.compare_digest(sig, hmac.new(secret, raw, hashlib.sha256).digest()[:SIG_BYTES]):
            raise ValueError("signature")
        name, first, ident = json.loads(raw)
        if name != ordering or not isinstance(ident, str):
            raise ValueError("ordering")
        if isinstance(first, int) and not isinstance(first, bool):
            return first, ident
        return datetime.fromisoformat(first), ident
    except (ValueError, TypeError, UnicodeDecodeError):
        raise BadUserInput(INVALID) from None
