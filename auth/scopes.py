"""The scopes a token may grant (docs/scopes.md).

Every schema field names one of these; a token's `scope` claim is intersected with
`ALL_SCOPES`, so an unknown scope string can never satisfy a check by accident.
"""

from typing import Final

ACCOUNTS_READ: Final = "accounts:read"
SUBSCRIPTIONS_READ: Final = "subscriptions:read"
SUBSCRIPTIONS_WRITE: Final = "subscriptions:write"
INVOICES_READ: Final = "invoices:read"
USAGE_READ: Final = "usage:read"
USAGE_WRITE: Final = "usage:write"
ENTITLEMENTS_READ: Final = "entitlements:read"
ENTITLEMENTS_WRITE: Final = "entitlements:write"

ALL_SCOPES: Final[frozenset[str]] = frozenset(
    {
        ACCOUNTS_READ,
        SUBSCRIPTIONS_READ,
        SUBSCRIPTIONS_WRITE,
        INVOICES_READ,
        USAGE_READ,
        USAGE_WRITE,
        ENTITLEMENTS_READ,
        ENTITLEMENTS_WRITE,
    }
)
