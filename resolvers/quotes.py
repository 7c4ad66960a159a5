"""Plan-change quotes as signed, self-contained tokens: a preview writes nothing, and
`changeSubscriptionPlan(quoteId:)` can check that a quote was issued by this service,
to this caller, for the subscription as it still is, and bill exactly what it showed."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

PREFIX: Final = "quo_"
SIG_BYTES: Final = 16


@dataclass(frozen=True)
class Quote:
    subscription_id: str
    subject: str  # the `sub` of the token it was issued to
    from_plan: str
    to_plan: str
    quantity: int
    period_start: datetime
    period_end: datetime
    at: datetime  # the instant the change is prorated at
    tax_rate: Decimal
    amounts: tuple[Decimal, ...]  # each line's amount, in order
    total: Decimal  # tax included
    expires_at: datetime

    def state(self) -> tuple[object, ...]:
        """What the subscription must still be for the quote to bill as shown."""
        return (
            self.from_plan,
            self.quantity,
            self.period_start,
            self.period_end,
            self.tax_rate,
        )


def _key(secret: bytes) -> bytes:
    return hmac.new(secret, b"plan-change-quote", hashlib.sha256).digest()


def _encode(quote: Quote) -> bytes:
    fields = {k: _plain(v) for k, v in asdict(quote).items()}
    return json.dumps(fields, separators=(",", ":"), sort_keys=True).encode()


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def sign(secret: bytes, quote: Quote) -> str:
    raw = _encode(quote)
    sig = hmac.new(_key(secret), raw, hashlib.sha256).digest()[:SIG_BYTES]
    return PREFIX + base64.urlsafe_b64encode(sig + raw).decode().rstrip("=")


def verify(secret: bytes, quote_id: str) -> Quote | None:
    """The quote, or None when it was not signed by us (or is not a quote at all)."""
    if not quote_id.startswith(PREFIX) or len(quote_id) > 4096:
        return None
    try:
        blob = base64.urlsafe_b64decode(quote_id[len(PREFIX) :] + "=" * (-len(quote_id) % 4))
        sig, raw = blob[:SIG_BYTES], blob[SIG_BYTES:]
        if not hmac.compare_digest(
            sig, hmac.new(_key(secret), raw, hashlib.sha256).digest()[:SIG_BYTES]
        ):
            return None
        return _decode(json.loads(raw))
    except (ValueError, TypeError, KeyError):
        return None


def _decode(f: dict[str, Any]) -> Quote:
    return Quote(
        subscription_id=str(f["subscription_id"]),
        subject=str(f["subject"]),
        from_plan=str(f["from_plan"]),
        to_plan=str(f["to_plan"]),
        quantity=int(f["quantity"]),
        period_start=datetime.fromisoformat(f["period_start"]),
        period_end=datetime.fromisoformat(f["period_end"]),
        at=datetime.fromisoformat(f["at"]),
        tax_rate=Decimal(f["tax_rate"]),
        amounts=tuple(Decimal(a) for a in f["amounts"]),
        total=Decimal(f["total"]),
        expires_at=datetime.fromisoformat(f["expires_at"]),
    )


def line_id(quote_id: str, n: int) -> str:
    """A quote's n-th line id: its own, so two quotes never share a cached line."""
    digest = hashlib.sha256(quote_id.encode()).hexdigest()[:20]
    return f"il_quote{digest}n{n}"
