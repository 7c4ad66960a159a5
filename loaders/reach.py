"""Which accounts a request may read: resolved once per request, bound into every
loader's SQL so that a resolver that forgets a check still reads nothing outside it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Final

PARTNER_ACCOUNTS: Final = "SELECT id FROM accounts WHERE partner_id = $1 ORDER BY id"

# Every tenant-scoped statement ANDs this in, with the reach as its parameter:
# NULL means every account (admins only), an array the accounts allowed. Written
# once, run in the form that fits the request (`narrow`): an OR of the two would
# keep a generic plan from using any index.
IN_REACH: Final = "({col} = ANY(${n}::text[]) OR ${n}::text[] IS NULL)"
_IN_REACH: Final = re.compile(r"\((\S+) = ANY\(\$(\d+)::text\[\]\) OR \$\2::text\[\] IS NULL\)")


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

    def sql(self, statement: str) -> str:
        """`statement` with each IN_REACH in the form for this reach."""
        return narrow(statement, self.everything)


def in_reach(column: str, n: int) -> str:
    return IN_REACH.format(col=column, n=n)


@cache
def narrow(statement: str, everything: bool) -> str:
    """Every account: `$n IS NULL` (true for the NULL an admin passes, so the plan needs
    no index for it); a list: `col = ANY($n)` (an index probe per account)."""
    form = r"($\2::text[] IS NULL)" if everything else r"(\1 = ANY($\2::text[]))"
    return _IN_REACH.sub(form, statement)
