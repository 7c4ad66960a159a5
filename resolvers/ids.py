"""Opaque, type-prefixed ids (`inv_…`): the prefix names the type, the rest is random."""

from __future__ import annotations

import secrets
from typing import Final

ID_ALPHABET: Final = "abcdefghijklmnopqrstuvwxyz234567"
ID_BITS: Final = 100


def format_id(prefix: str, bits: int) -> str:
    """`<prefix>_` + 20 lowercase base32 characters of `bits` (100 bits)."""
    return f"{prefix}_" + "".join(
        ID_ALPHABET[(bits >> shift) & 31] for shift in range(0, ID_BITS, 5)
    )


def new_id(prefix: str) -> str:
    return format_id(prefix, secrets.randbits(ID_BITS))
