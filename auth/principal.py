"""Who is calling: the verified, typed view of a token's claims."""

import enum
from dataclasses import dataclass
from datetime import datetime


class Role(enum.StrEnum):
    """The three roles (docs/authentication.md); the value (and `str()`) is the `role`
    claim's text."""

    CUSTOMER = "customer"
    PARTNER = "partner"
    ADMIN = "admin"


@dataclass(frozen=True)
class Principal:
    """A verified caller. Built only by `TokenVerifier.verify`, never from raw input.

    `accounts` is the customer's `accounts` claim (empty for other roles) and
    `partner` the partner's `partner` claim (None for other roles): reach is
    decided from these plus `role`, so the other role's claim is never carried.
    """

    subject: str
    role: Role
    scopes: frozenset[str]
    accounts: tuple[str, ...]
    partner: str | None
    expires_at: datetime

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes
