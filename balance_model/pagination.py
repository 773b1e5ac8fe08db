"""Keyset (cursor) pagination of a user's balances: the cursor and the page it comes with.

``get_by_user(user_id, limit, offset)`` is the guide's OFFSET pagination: page
``k`` makes PostgreSQL read ``(k - 1) * limit`` rows and throw them away, so deep
pages cost more. Keyset pagination remembers where the previous page ended, the
last row's sort key ``(created_at, id)``, and asks for the rows after it
(``get_by_user_keyset``): every page is a short index walk from the cursor on.

The cursor is the full sort key, not ``created_at`` alone: balances created in
the same microsecond are ordered by id, so no row is skipped or repeated at a
tie. ``token()``/``from_token`` give an opaque, URL-safe string for an API.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime

from balance_model.records import Balance

__all__ = ["PageCursor", "Page"]


@dataclass(frozen=True, slots=True)
class PageCursor:
    """The position after which the next page starts: the last row's ``(created_at, id)``."""

    created_at: datetime
    id: int

    def __post_init__(self) -> None:
        if self.created_at.tzinfo is None:
            raise ValueError("a page cursor needs a time-zone-aware created_at (the column is timestamptz)")

    @classmethod
    def after(cls, balance: Balance) -> PageCursor:
        """The cursor that continues after ``balance``."""
        return cls(balance.created_at, balance.id)

    def token(self) -> str:
        """An opaque URL-safe string carrying the cursor, for a client to send back."""
        raw = f"{self.created_at.isoformat()}|{self.id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def from_token(cls, token: str) -> PageCursor:
        """The cursor ``token()`` produced; ValueError for anything else."""
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
            created_at, id_text = raw.split("|")
            return cls(datetime.fromisoformat(created_at), int(id_text))
        except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
            raise ValueError(f"not a page cursor: {token!r}") from exc

    def params(self) -> dict[str, object]:
        """The keyset read's bind parameters for this cursor."""
        return {"after_created_at": self.created_at, "after_id": self.id}


@dataclass(frozen=True)
class Page:
    """One page of balances, newest first, and the cursor of the next page (None when this page is the last).

    A full page always gets a cursor, so when the user's balance count is a
    multiple of the page size the last cursor leads to one empty page; knowing
    otherwise would cost reading one row more on every page.
    """

    balances: list[Balance]
    next: PageCursor | None
