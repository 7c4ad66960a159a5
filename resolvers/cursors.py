"""Opaque keyset cursors: a row's sort key, encrypted and authenticated with AES-SIV
(deterministic, so one row's cursor is stable), with the list it belongs to — the
list's name, its parent and its filters — as associated data. A cursor reveals
nothing, cannot be forged or edited, and opens only on the list that issued it;
anything else is BAD_USER_INPUT."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import struct
from collections.abc import Hashable
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESSIV

from loaders.base import Key
from resolvers.errors import BadUserInput

INVALID: Final = "The cursor is not valid for this list."
MAX_LENGTH: Final = 400
EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
# The payload: a tag for the first key's type, 8 bytes of it, then the id.
TIME, NUMBER = b"t", b"n"


def binding(list_name: str, parent: str, filters: tuple[Hashable, ...]) -> bytes:
    """What a cursor is bound to, canonically: `Account.invoices` of acct_… with these filters."""
    return json.dumps([list_name, parent, filters], separators=(",", ":"), default=str).encode()


def encode(secret: bytes, bound_to: bytes, key: Key) -> str:
    first, ident = key
    if isinstance(first, datetime):
        head = TIME + struct.pack(">q", (first - EPOCH) // timedelta(microseconds=1))
    else:
        head = NUMBER + struct.pack(">q", first)
    sealed = _cipher(secret).encrypt(head + ident.encode(), [bound_to])
    return base64.urlsafe_b64encode(sealed).decode().rstrip("=")


def decode(secret: bytes, bound_to: bytes, cursor: str) -> Key:
    try:
        if len(cursor) > MAX_LENGTH:
            raise ValueError("too long")
        sealed = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload = _cipher(secret).decrypt(sealed, [bound_to])
        (number,) = struct.unpack(">q", payload[1:9])
        ident = payload[9:].decode()
    except (ValueError, InvalidTag, struct.error, UnicodeError):
        raise BadUserInput(INVALID) from None
    if payload[:1] == TIME:
        return EPOCH + timedelta(microseconds=number), ident
    return number, ident


@cache
def _cipher(secret: bytes) -> AESSIV:
    # AES-256-SIV takes a 64-byte key; one derived for cursors alone.
    return AESSIV(hmac.new(secret, b"billing-gateway cursors", hashlib.sha512).digest())
