"""Plan-change quotes: signed by the server, refused when forged or edited."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from resolvers import quotes

SECRET = b"k" * 32
AT = datetime(2026, 11, 16, tzinfo=UTC)


def test_a_quote_carries_what_was_quoted() -> None:
    quote = quotes.sign(SECRET, "sub_a", 3, "plan_b", AT, [Decimal("-10.00"), Decimal("100.00")])

    assert quote.startswith("quo_")
    assert quotes.verify(SECRET, quote) == (
        "sub_a",
        3,
        "plan_b",
        AT,
        [Decimal("-10.00"), Decimal("100.00")],
    )


def test_another_servers_quote_is_refused() -> None:
    quote = quotes.sign(b"x" * 32, "sub_a", 3, "plan_b", AT, [Decimal(1)])
    assert quotes.verify(SECRET, quote) is None


@given(st.integers(min_value=4, max_value=60), st.sampled_from("AQgw_-"))
def test_an_edited_quote_is_refused(position: int, char: str) -> None:
    quote = quotes.sign(SECRET, "sub_a", 3, "plan_b", AT, [Decimal("-10.00"), Decimal("100.00")])
    edited = quote[:position] + char + quote[position + 1 :]
    if edited != quote:
        assert quotes.verify(SECRET, edited) is None


def test_junk_is_refused() -> None:
    for junk in ("", "quo_", "quo_!!!", "sub_a", "quo_" + "A" * 200):
        assert quotes.verify(SECRET, junk) is None
