"""Pagination depth: the guide's OFFSET pages against keyset (cursor) pages of the whale's balances.

``get_by_user(user_id, limit, offset)`` reads and discards ``offset`` rows
before the page; ``get_by_user_keyset`` starts from the previous page's last
``(created_at, id)``. Pages 1, 10, 100 and the last of the whale, ``PAGE_SIZE``
rows each (10: so that page 100 exists at ``small``, whose whale holds 1,463
balances, 147 pages); pages beyond the whale's last are not asked. The cursor
of page k is the one a client holds after reading page k - 1, found untimed in
``prepare`` by walking the pages.

Which index serves it (EXPLAIN ANALYZE, PostgreSQL 18, small, the whale's page
100): with 012 keyset is an Index Scan Backward on ``idx_balances_user_created``
(user_id, created_at) with ``Index Cond: user_id = 37 AND created_at <= cursor``
and the row comparison ``ROW(created_at, id) < ROW(...)`` rechecked as a Filter
(the index has no id; an index on (user_id, created_at, id) would make it all
index condition), under an Incremental Sort by id within equal timestamps and
the Limit: 11 rows read, 14 buffers. OFFSET's first pages walk the same index
and discard the rows before the page; from page 100 the planner switches to a
Bitmap Index Scan on the same index, a heap scan of all 1,463 rows and a full
sort (1,043 buffers; the ``large-offset`` finding). Without 012 there is no
index on user_id: both forms scan the table and top-N sort it, and depth
matters little next to the scan.

The correctness check compares every page of both forms with an oracle that
shares no SQL with them: the whale's rows fetched unordered, sorted in Python
by ``(created_at, id)`` descending, and sliced.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, text

from balance_bench.bench.experiments.spec import (
    Call,
    CheckFailed,
    Estimate,
    Experiment,
    ExperimentCase,
    Figures,
    PlanTarget,
    Ratio,
    Variant,
    Workspace,
    figure_key,
    times,
)
from balance_bench.coordinates import Migration
from balance_model import queries
from balance_model.model import BalanceModel
from balance_model.pagination import PageCursor

__all__ = ["EXPERIMENT", "PAGE_SIZE", "PAGES", "FLAT_WITHIN", "page_kind", "whale_order", "depth_pages"]

PAGE_SIZE = 10
PAGES = (1, 10, 100)
"""Fixed depths; the last page is added per dataset."""
FLAT_WITHIN = 1.5
"""Keyset is "flat in depth" when its last page costs at most this many times its first (the issue's target)."""


def page_kind(page: int | None) -> str:
    """The stable name of a depth: ``page-1`` ... or ``page-last`` (None)."""
    return "page-last" if page is None else f"page-{page}"


def whale_order(engine: Engine, user_id: int) -> list[tuple[Any, int]]:
    """The oracle: the user's ``(created_at, id)`` fetched without ORDER BY, sorted newest first in Python."""
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT created_at, id FROM balances WHERE user_id = :u"), {"u": user_id}).all()
    return sorted(((r[0], r[1]) for r in rows), reverse=True)


def depth_pages(rows: int, page_size: int = PAGE_SIZE) -> dict[str, int]:
    """The pages asked for a user with ``rows`` balances: the fixed depths that exist, and the last page."""
    last = max(1, -(-rows // page_size))
    pages = {page_kind(p): p for p in PAGES if p < last}
    pages[page_kind(None)] = last
    return pages


@dataclass
class PaginationState:
    """One variant's model over its copy, the whale's pages and the oracle."""

    variant: str
    url: str
    engine: Engine
    model: BalanceModel
    user_id: int
    pages: dict[str, int]  # param kind -> page number
    cursors: dict[int, PageCursor | None] = field(default_factory=dict)  # page -> cursor of the page before
    oracle: list[tuple[Any, int]] = field(default_factory=list)

    def close(self) -> None:
        self.model.close()
        self.engine.dispose()


def _prepare(workspace: Workspace) -> PaginationState:
    engine = workspace.engine(pool_size=2)
    model = BalanceModel(engine)
    user_id = workspace.dataset.params.whale_user_id
    oracle = whale_order(engine, user_id)
    state = PaginationState(workspace.variant, workspace.url, engine, model, user_id, depth_pages(len(oracle)),
                            oracle=oracle)
    # The cursor a client holds for page k: walk the pages as a client would (untimed).
    wanted = set(state.pages.values())
    cursor: PageCursor | None = None
    for page in range(1, max(wanted) + 1):
        if page in wanted:
            state.cursors[page] = cursor
        cursor = model.get_by_user_keyset(user_id, PAGE_SIZE, cursor).next
    return state


def _cases(state: PaginationState) -> tuple[ExperimentCase, ...]:
    return tuple(
        ExperimentCase(state.variant, "get_by_user", kind, {"user_id": state.user_id, "limit": PAGE_SIZE, "page": page})
        for kind, page in state.pages.items()
    )


def _page(state: PaginationState, variant: str, page: int) -> Any:
    if variant == "offset":
        return state.model.get_by_user(state.user_id, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    return state.model.get_by_user_keyset(state.user_id, PAGE_SIZE, state.cursors[page]).balances


def _call(state: PaginationState, case: ExperimentCase) -> Call:
    page = int(case.params["page"])
    if state.variant == "offset":
        offset = (page - 1) * PAGE_SIZE
        return Call(lambda: state.model.get_by_user(state.user_id, PAGE_SIZE, offset))
    cursor = state.cursors[page]
    return Call(lambda: state.model.get_by_user_keyset(state.user_id, PAGE_SIZE, cursor))


def _check(states: Mapping[str, PaginationState]) -> None:
    for variant, state in states.items():
        for kind, page in state.pages.items():
            start = (page - 1) * PAGE_SIZE
            expected = [row_id for _, row_id in state.oracle[start:start + PAGE_SIZE]]
            got = [b.id for b in _page(state, variant, page)]
            if got != expected:
                raise CheckFailed(f"{variant} {kind} (page {page}) returned ids {got}, the oracle says {expected}")


def _plan(state: PaginationState, case: ExperimentCase) -> PlanTarget:
    page = int(case.params["page"])
    cursor = state.cursors[page]
    if state.variant == "offset" or cursor is None:
        params: dict[str, Any] = {"user_id": state.user_id, "limit": PAGE_SIZE, "offset": (page - 1) * PAGE_SIZE}
        return PlanTarget(state.url, queries.sql("get_by_user"), params)
    return PlanTarget(state.url, queries.sql("get_by_user_keyset"),
                      {"user_id": state.user_id, "limit": PAGE_SIZE, **cursor.params()})


RATIOS = (
    Ratio("offset_depth", "offset-get_by_user-page-last", "offset-get_by_user-page-1"),
    Ratio("keyset_depth", "keyset-get_by_user-page-last", "keyset-get_by_user-page-1"),
    Ratio("keyset_vs_offset_last", "keyset-get_by_user-page-last", "offset-get_by_user-page-last"),
)


def _conclude(figures: Figures) -> str:
    key = Migration.WITH_012
    offset: Estimate = figures[figure_key(key, "offset_depth")]
    keyset: Estimate = figures[figure_key(key, "keyset_depth")]
    flat = {True: "is not flat in depth", False: "is flat in depth", None: "inconclusive on flatness"}[
        keyset.above(FLAT_WITHIN)]
    slower = {True: "is slower at depth", False: "is not slower at depth", None: "inconclusive at depth"}[
        offset.above(1.0)]
    return (f"With 012, the whale's last page costs {times(offset)} its first with OFFSET and {times(keyset)} with "
            f"keyset pagination: keyset {flat} (within {FLAT_WITHIN}x), OFFSET {slower}.")


EXPERIMENT: Experiment[PaginationState] = Experiment(
    name="pagination",
    title="Pagination depth: OFFSET against keyset",
    question='"Implement query result pagination with cursor-based pagination" (Future Optimizations); '
             '"Use composite indexes for sorting: Balance.getByUser(userId, limit, offset)"',
    variants=(
        Variant("offset", "the guide's getByUser(userId, limit, offset)"),
        Variant("keyset", "cursor pagination after the previous page's last (created_at, id)"),
    ),
    migrations=(Migration.WITHOUT_012, Migration.WITH_012),
    prepare=_prepare,
    cases=_cases,
    call=_call,
    check=_check,
    plan=_plan,
    conclude=_conclude,
    ratios=RATIOS,
)
