"""Long lists without scanning them: keyset pages and bounded counts.

Page numbers read and drop every row before the page (OFFSET), and « page 3 / 1 000 » counts every
matching row: both grow with the table. The usager list of a big organisation (50,000 files today,
plan for ten times more) and the espace journal (one row per change, forever) use instead:

- **keyset pages**: a page starts after (or before) a row named by its id in the URL (`?apres=` /
  `?avant=`), through the index of the sort order, so every page costs the same wherever it is.
  The URL carries only an id, never a name (URLs end up in server logs); the row is looked up in
  the same scoped queryset (one primary-key query), and an unknown id shows the first page;
- **bounded counts**: exact up to `COUNT_CAP` (counting at most that many rows); beyond, the
  PostgreSQL planner's estimate of the same query, shown as approximate (« environ 52 000 »), or
  « plus de 1 000 » on SQLite.
"""

import json
import math
from dataclasses import dataclass
from functools import reduce
from operator import or_

from django.db import connections
from django.db.models import Q

COUNT_CAP = 1000
MAX_ID = 2**63 - 1


@dataclass
class Count:
    value: int
    exact: bool  # False: `value` is a lower bound (approximate False) or an estimate (approximate True)
    approximate: bool = False


def bounded_count(queryset, cap: int = COUNT_CAP) -> Count:
    """The number of rows of `queryset`: exact up to `cap`, otherwise an estimate (PostgreSQL) or
    `cap` as a lower bound (other databases)."""
    queryset = queryset.order_by().values("pk")
    counted = queryset[: cap + 1].count()
    if counted <= cap:
        return Count(counted, exact=True)
    estimate = planner_estimate(queryset)
    if estimate is None or estimate <= cap:
        return Count(cap, exact=False)
    return Count(_round(estimate), exact=False, approximate=True)


def planner_estimate(queryset) -> int | None:
    """The number of rows PostgreSQL's planner expects `queryset` to return (no row is read), or
    None on other databases."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    sql, params = queryset.order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


def _round(value: int) -> int:
    """Two significant digits: 52,347 → 52,000."""
    digits = max(0, int(math.log10(value)) - 1)
    return round(value, -digits)


@dataclass
class KeysetPage:
    rows: list
    has_previous: bool
    has_next: bool
    is_first: bool

    def __iter__(self):
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def first_id(self):
        return self.rows[0].pk if self.rows else None

    @property
    def last_id(self):
        return self.rows[-1].pk if self.rows else None


def parse_id(raw) -> int | None:
    raw = str(raw or "")
    if raw.isascii() and raw.isdigit() and int(raw) <= MAX_ID:
        return int(raw)
    return None


def _field(name: str) -> str:
    return name.lstrip("-")


def _beyond(order: tuple[str, ...], values: dict, backwards: bool) -> Q:
    """Rows strictly after the row with these `values` in `order` (before it when `backwards`).
    The first field's bound comes first, alone, so that the database can start its index scan
    there. The fields of `order` must not be null; the last must be unique (the id)."""

    def descending(name: str) -> bool:
        return name.startswith("-") != backwards

    alternatives = []
    for index, name in enumerate(order):
        equal = {_field(previous): values[_field(previous)] for previous in order[:index]}
        lookup = "lt" if descending(name) else "gt"
        alternatives.append(Q(**equal, **{f"{_field(name)}__{lookup}": values[_field(name)]}))
    first = order[0]
    start = Q(**{f"{_field(first)}__{'lte' if descending(first) else 'gte'}": values[_field(first)]})
    return start & reduce(or_, alternatives)


def keyset_page(queryset, order: tuple[str, ...], *, after=None, before=None, size: int = 50) -> KeysetPage:
    """A page of `size` rows of `queryset` in `order` (field names, "-" for descending, ending
    with the id): the first page, or the page after the row of id `after`, or the one before the
    row of id `before` (ids from the URL: see `parse_id`). An id that is not in `queryset` gives
    the first page."""
    cursor_id = after if after is not None else before
    values = None
    if cursor_id is not None:
        values = queryset.filter(pk=cursor_id).values(*(_field(name) for name in order)).first()
    if values is None:
        rows = list(queryset.order_by(*order)[: size + 1])
        return KeysetPage(rows[:size], has_previous=False, has_next=len(rows) > size, is_first=True)
    if after is not None:
        rows = list(queryset.filter(_beyond(order, values, backwards=False)).order_by(*order)[: size + 1])
        return KeysetPage(rows[:size], has_previous=True, has_next=len(rows) > size, is_first=False)
    reverse = tuple(_field(name) if name.startswith("-") else f"-{name}" for name in order)
    rows = list(queryset.filter(_beyond(order, values, backwards=True)).order_by(*reverse)[: size + 1])
    has_previous = len(rows) > size
    return KeysetPage(rows[:size][::-1], has_previous=has_previous, has_next=True, is_first=not has_previous)
