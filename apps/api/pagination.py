"""Cursor pagination for every list of the API."""

from rest_framework import exceptions, pagination


class CursorPagination(pagination.CursorPagination):
    """Opaque `cursor` links, `page_size` up to 200, newest first unless a list sorts otherwise.

    Each list's ordering ends with the primary key, so rows that share a sort value keep one
    order between pages.
    """

    ordering = ("-id",)
    page_size_query_param = "page_size"
    max_page_size = 200

    def decode_cursor(self, request):
        """Reject a damaged cursor with 400 naming the parameter, where DRF returns 404."""
        try:
            return super().decode_cursor(request)
        except exceptions.NotFound:
            raise exceptions.ValidationError(
                {
                    self.cursor_query_param: [
                        f"The cursor {request.query_params.get(self.cursor_query_param)!r} is "
                        f"invalid; follow the 'next' or 'previous' link of a list response "
                        f"unchanged, or leave the cursor out to start at the first page."
                    ]
                }
            ) from None
