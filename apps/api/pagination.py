"""Cursor pagination for every list of the API."""

from rest_framework import pagination


class CursorPagination(pagination.CursorPagination):
    """Opaque `cursor` links, `page_size` up to 200, newest first unless a list sorts otherwise.

    Each list's ordering ends with the primary key, so rows that share a sort value keep one
    order between pages.
    """

    ordering = ("-id",)
    page_size_query_param = "page_size"
    max_page_size = 200
