"""Keyset pagination: pages that start after (or end before) the sort key of a known row.

A page query filters on the sort key and reads one row more than it shows, so its cost does
not grow with the page's depth the way OFFSET does, and it needs no COUNT.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

Key = tuple[Any, ...]


@dataclass(frozen=True)
class KeysetPage:
    """The rows of one page and the keys that open its neighbours (None at either end)."""

    items: list[Any]
    next_key: Key | None
    previous_key: Key | None


def _beyond(fields: Sequence[str], key: Key, *, forward: bool) -> Q:
    """Rows strictly after `key` in the order of `fields` (or strictly before it).

    For (name, id) this is `name >= v AND (name > v OR id > i)`: the leading range on the
    first field lets the database start its index scan at the key instead of filtering.
    """
    strict = "gt" if forward else "lt"
    inclusive = "gte" if forward else "lte"
    first, value = fields[0], key[0]
    if len(fields) == 1:
        return Q(**{f"{first}__{strict}": value})
    rest = _beyond(fields[1:], key[1:], forward=forward)
    return Q(**{f"{first}__{inclusive}": value}) & (Q(**{f"{first}__{strict}": value}) | rest)


def key_of(item: Any, fields: Sequence[str]) -> Key:
    return tuple(getattr(item, field) for field in fields)


def keyset_page(
    queryset: QuerySet,
    *,
    fields: Sequence[str],
    descending: bool,
    size: int,
    after: Key | None = None,
    before: Key | None = None,
) -> KeysetPage:
    """Read the page that follows `after`, or the one that precedes `before`, or the first.

    `fields` must end in a unique field (usually `id`) so that every row has its own key.
    """
    ascending_order = [f"-{field}" if descending else field for field in fields]
    reverse_order = [field if descending else f"-{field}" for field in fields]

    if before is not None:
        # Walk backwards from the key, then restore the display order.
        rows = list(
            queryset.filter(_beyond(fields, before, forward=descending)).order_by(*reverse_order)[
                : size + 1
            ]
        )
        more_before = len(rows) > size
        items = list(reversed(rows[:size]))
        return KeysetPage(
            items=items,
            next_key=key_of(items[-1], fields) if items else None,
            previous_key=key_of(items[0], fields) if items and more_before else None,
        )

    if after is not None:
        queryset = queryset.filter(_beyond(fields, after, forward=not descending))
    rows = list(queryset.order_by(*ascending_order)[: size + 1])
    more_after = len(rows) > size
    items = rows[:size]
    return KeysetPage(
        items=items,
        next_key=key_of(items[-1], fields) if items and more_after else None,
        # A page reached through `after` has rows before it, unless the key was made up.
        previous_key=key_of(items[0], fields) if items and after is not None else None,
    )
