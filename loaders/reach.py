"""Which accounts a request may read: resolved once per request, bound into every
loader's SQL so that a resolver that forgets a check still reads nothing outside it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

PARTNER_ACCOUNTS: Final = "SELECT id FROM accounts WHERE partner_id = $1 ORDER BY id"

# Every tenant-scoped statement ANDs this in, with the reach as its parameter:
# NULL means every account (admins only), an array the accounts allowed.
IN_REACH: Final = "({col} = ANY(${n}::text[]) OR ${n}::text[] IS NULL)"


@dataclass(frozen=True)
class Reach:
    everything: bool
    accounts: frozenset[str]

    @classmethod
    def all(cls) -> Reach:
        return cls(everything=True, accounts=frozenset())

    @classmethod
    def only(cls, accounts: object) -> Reach:
        ids = accounts if isinstance(accounts, list | tuple | frozenset | set) else ()
        return cls(everything=False, accounts=frozenset(str(a) for a in ids))

    @property
    def param(self) -> list[str] | None:
        """The value for IN_REACH's parameter."""
        return None if self.everything else sorted(self.accounts)

    def allows(self, account_id: str) -> bool:
        return self.everything or account_id in self.accounts


def in_reach(column: str, n: int) -> str:
    return IN_REACH.format(col=column, n=n)
