"""Relay-style connections over querysets and lists, with opaque offset cursors.

NOTE: a cursor is an offset, so a row added or removed between two page requests shifts
the later pages by one. The SDK reads each list once, page after page.
"""

import base64
import binascii

from graphql import GraphQLError

DEFAULT_PAGE_SIZE = 50
# The SDK requests up to 5000 files per page; a request for more gets this many.
MAX_PAGE_SIZE = 10_000


def encode_cursor(offset: int) -> str:
    return base64.b64encode(f"offset:{offset}".encode()).decode("ascii")


def decode_cursor(cursor: str | None) -> int:
    """Return the offset at which a page starts; no cursor means the first page."""
    if not cursor:
        return 0
    try:
        text = base64.b64decode(cursor.encode("ascii"), validate=True).decode()
    except (binascii.Error, UnicodeError, ValueError):
        text = ""
    kind, _, number = text.partition(":")
    if kind != "offset" or not number.isdigit():
        raise GraphQLError(
            f"The cursor {cursor!r} is not valid; pass the endCursor of the previous page."
        )
    return int(number)


def page_size(first: int | None) -> int:
    if first is None:
        return DEFAULT_PAGE_SIZE
    if first < 0:
        raise GraphQLError(f"`first` is {first}; ask for 0 or more items.")
    return min(first, MAX_PAGE_SIZE)


def connection(items, *, after: str | None, first: int | None, total: bool = False) -> dict:
    """Return one page of `items` (a queryset or a list) as a connection.

    Each edge is {"node": item}. A queryset is read with one query for the page (one item
    more than the page, to know whether another page follows) and, with `total`, a count.
    """
    start = decode_cursor(after)
    size = page_size(first)
    window = list(items[start : start + size + 1])
    has_next = len(window) > size
    page = window[:size]
    result = {
        "edges": [{"node": item} for item in page],
        "page_info": {
            "end_cursor": encode_cursor(start + len(page)) if page else after,
            "has_next_page": has_next,
        },
    }
    if total:
        result["total_count"] = len(items) if isinstance(items, list) else items.count()
    return result
