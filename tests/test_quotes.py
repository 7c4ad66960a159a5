"""Plan-change quotes: signed by the server, refused when forged or edited, and each
quote's lines have ids of their own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from resolvers import quotes
from resolvers.quotes import Quote

SECRET = b"k" * 32
AT = datetime(2026, 11, 16, tzinfo=UTC)
QUOTE = Quote(
    subscription_id="sub_a",
    subject="dev:customer",
    from_plan="plan_pro",
    to_plan="plan_business",
    quantity=2,
    period_start=datetime(2026, 11, 1, tzinfo=UTC),
    period_end=datetime(2026, 12, 1, tzinfo=UTC),
    at=AT,
    tax_rate=Decimal("0.2"),
    amounts=(Decimal("-20.00"), Decimal("200.00")),
    total=Decimal("216.00"),
    expires_at=AT + timedelta(minutes=15),
)


def test_a_quote_carries_what_was_quoted() -> None:
    quote_id = quotes.sign(SECRET, QUOTE)

    assert quote_id.startswith("quo_")
    assert quotes.verify(SECRET, quote_id) == QUOTE


def test_another_servers_quote_is_refused() -> None:
    assert quotes.verify(SECRET, quotes.sign(b"x" * 32, QUOTE)) is None


@given(st.integers(min_value=4, max_value=300), st.sampled_from("AQgw_-"))
def test_an_edited_quote_is_refused(position: int, char: str) -> None:
    quote_id = quotes.sign(SECRET, QUOTE)
    edited = quote_id[:position] + char + quote_id[position + 1 :]
    if edited != quote_id:
        assert quotes.verify(SECRET, edited) is None


def test_junk_is_refused() -> None:
    for junk in ("", "quo_", "quo_!!!", "sub_a", "quo_" + "A" * 200, "quo_" + "A" * 5000):
        assert quotes.verify(SECRET, junk) is None


def test_each_quote_names_its_lines_apart() -> None:
    one = quotes.sign(SECRET, QUOTE)
    other = quotes.sign(SECRET, QUOTE.__class__(**{**QUOTE.__dict__, "to_plan": "plan_free"}))

    ids = {quotes.line_id(q, n) for q in (one, other) for n in (1, 2)}

    assert len(ids) == 4
    assert all(i.startswith("il_quote") for i in ids)
