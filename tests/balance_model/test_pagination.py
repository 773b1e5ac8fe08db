"""Keyset pagination: the cursor round-trips, and keyset pages are OFFSET's pages, ties in created_at included."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import Engine, text

from balance_model.model import BalanceModel
from balance_model.pagination import PageCursor
from balance_model.schema import balances

TIED = 57  # balances of user 1, in groups of up to 4 sharing one created_at
START = datetime(2024, 3, 1, tzinfo=UTC)


def test_cursor_token_round_trips_exactly() -> None:
    """token() and from_token() give back the same instant, offset and id."""
    plus_two = timezone(timedelta(hours=2))
    cursor = PageCursor(datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=plus_two), 9_007_199_254_740_993)
    again = PageCursor.from_token(cursor.token())
    assert again == cursor and again.created_at.utcoffset() == cursor.created_at.utcoffset()


@pytest.mark.parametrize("token", ["", "not-base64!", "bm9waXBl", PageCursor(START, 1).token() + "x"])
def test_anything_but_a_token_is_refused(token: str) -> None:
    """A garbled or foreign string is a ValueError, never a cursor pointing somewhere arbitrary."""
    with pytest.raises(ValueError, match="not a page cursor"):
        PageCursor.from_token(token)


def test_a_naive_created_at_is_refused() -> None:
    """The column is timestamptz: a cursor without a zone would compare against the session's zone."""
    with pytest.raises(ValueError, match="time-zone-aware"):
        PageCursor(datetime(2024, 1, 1), 1)


def _tied_balances(engine: Engine) -> list[int]:
    """Insert TIED balances for user 1 whose created_at repeat, ids not in created_at order; the oracle's order."""
    rows = [{"user_id": 1, "token_id": 1 + i % 3, "address": "0xabc", "amount": Decimal(i), "usd_value": Decimal(i),
             "created_at": START + timedelta(seconds=(i * 7) % 15), "updated_at": START + timedelta(days=1)}
            for i in range(TIED)]
    with engine.begin() as conn:
        conn.execute(balances.insert(), rows)
        fetched = conn.execute(text("SELECT created_at, id FROM balances WHERE user_id = 1")).all()
    ordered = sorted(((r[0], r[1]) for r in fetched), reverse=True)  # newest first, ties by id descending
    assert len({c for c, _ in ordered}) < TIED  # there are ties to break
    return [row_id for _, row_id in ordered]


@pytest.mark.services
@pytest.mark.parametrize("limit", [1, 4, 5, 19, 57, 100])
def test_keyset_pages_are_offset_pages_and_the_oracle(db: Engine, plain: BalanceModel, limit: int) -> None:
    """Walking the cursor visits every row once, in the oracle's order, page for page what OFFSET returns."""
    oracle = _tied_balances(db)
    cursor, page_number, seen = None, 0, []
    while True:
        page = plain.get_by_user_keyset(1, limit, cursor)
        offset_page = plain.get_by_user(1, limit, page_number * limit)
        assert [b.id for b in page.balances] == [b.id for b in offset_page]
        seen += [b.id for b in page.balances]
        page_number += 1
        if page.next is None:
            break
        assert page.next == PageCursor.after(page.balances[-1])
        cursor = page.next
    assert seen == oracle
    # A full last page still gets a cursor, which leads to one empty page.
    assert page_number == TIED // limit + 1


@pytest.mark.services
def test_a_short_page_ends_the_walk_and_a_cursor_survives_its_token(db: Engine, plain: BalanceModel) -> None:
    """The page after a token'd cursor is the same as after the cursor; a short page has no next."""
    oracle = _tied_balances(db)
    first = plain.get_by_user_keyset(1, 10)
    assert first.next is not None
    via_token = plain.get_by_user_keyset(1, 10, PageCursor.from_token(first.next.token()))
    assert [b.id for b in via_token.balances] == oracle[10:20]
    last = plain.get_by_user_keyset(1, 10, PageCursor.after(plain.find_by_id(oracle[-3])))  # type: ignore[arg-type]
    assert [b.id for b in last.balances] == oracle[-2:] and last.next is None


@pytest.mark.services
def test_keyset_limits_below_one_are_refused(plain: BalanceModel) -> None:
    """A page of no rows can never advance, so limit 0 is an error (as negative OFFSET limits are)."""
    with pytest.raises(ValueError, match="limit >= 1"):
        plain.get_by_user_keyset(1, 0)
    assert plain.get_by_user_keyset(1, 1).balances == []
