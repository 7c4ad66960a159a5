"""Seeded randomness and the opaque ids drawn from it."""

from __future__ import annotations

import random

from resolvers.ids import ID_BITS, format_id


def make_id(rng: random.Random, prefix: str) -> str:
    """An id of the gateway's format, its 100 bits drawn from `rng`."""
    return format_id(prefix, rng.getrandbits(ID_BITS))


def scope_key(seed: int, *scope: object) -> str:
    """The string an RNG of this seed and scope is keyed by."""
    return ":".join(["billing-seed", str(seed), *map(str, scope)])


def scoped_rng(seed: int, *scope: object) -> random.Random:
    # A str seed is hashed with SHA-512: stable across processes and Python builds.
    return random.Random(scope_key(seed, *scope))
