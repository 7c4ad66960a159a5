"""Plan-change quotes as signed, self-contained tokens: a preview writes nothing, and
the mutation can check a quote was issued by us for this subscription version."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Final

PREFIX: Final = "quo_"
SIG_BYTES: Final = 16


def _key(secret: bytes) -> bytes:
    return hmac.new(secret, b"plan-change-quote", hashlib.sha256).digest()


def sign(
    secret: bytes, sub_id: str, version: int, plan_id: str, at: datetime, amounts: Sequence[Decimal]
) -> str:
    body = [sub_id, version, plan_id, at.isoformat(), [str(a) for a in amounts]]
    raw = json.dumps(body, separators=(",", ":")).encode()
    sig = hmac.new(_key(secret), raw, hashlib.sha256).digest()[:SIG_BYTES]
    return PREFIX + base64.urlsafe_b64encode(sig + raw).decode().rstrip("=")


def verify(secret: bytes, quote_id: str) -> tuple[str, int, str, datetime, list[Decimal]] | None:
    """The quote's contents, or None when it was not signed by us."""
    if not quote_id.startswith(PREFIX):
        return None
    try:
        blob = base64.urlsafe_b64decode(quote_id[len(PREFIX) :] + "=" * (-len(quote_id) % 4))
        sig, raw = blob[:SIG_BYTES], blob[SIG_BYTES:]
        if not hmac.compare_digest(
            sig, hmac.new(_key(secret), raw, hashlib.sha256).digest()[:SIG_BYTES]
        ):
            return None
        sub_id, version, plan_id, at, amounts = json.loads(raw)
        return (
            sub_id,
            int(version),
            plan_id,
            datetime.fromisoformat(at),
            [Decimal(a) for a in amounts],
        )
    except (ValueError, TypeError):
        return None
