"""Seeded randomness and the opaque ids drawn from it."""

from __future__ import annotations

import random
from typing import Final

ID_ALPHABET: Final = "abcdefghijklmnopqrstuvwxyz234567"


def make_id(rng: random.Random, prefix: str) -> str:
    """`<prefix>_` + 20 lowercase base32 characters (100 bits drawn from `rng`)."""
    bits = rng.getrandbits(100)
    return f"{prefix}_" + "".join(ID_ALPHABET[(bits >> shift) & 31] for shift in range(0, 100, 5))


def scope_key(seed: int, *scope: object) -> str:
    """The string an RNG of this seed and scope is keyed by."""
    return ":".join(["billing-seed", str(seed), *map(str, scope)])


def scoped_rng(seed: int, *scope: object) -> random.Random:
    # A str seed is hashed with SHA-512: stable across processes and Python builds.
    return random.Random(scope_key(seed, *scope))
