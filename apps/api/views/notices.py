"""Site notices shown to the caller, as the banners at the top of the pages show them."""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from apps.api.base import ApiViewSet, clean_id
from apps.api.pagination import CursorPagination
from apps.api.serializers.notices import (
    DismissalSerializer,
    NoticeDismissSerializer,
    NoticeSerializer,
)
from apps.notices import services
from apps.notices.models import Notice
from apps.notices.selectors import active_notices

NOTICE_ID_PARAMETER = OpenApiParameter(
    "id", int, OpenApiParameter.PATH, description="The id of the notice."
)
NOTICE_EXAMPLE = OpenApiExample(
    "Migration announcement",
    value={
        "id": 12,
        "severity": "info",
        "message": "**The nlp-team Model Registry moves to the new Registry.**",
        "message_html": (
            "<p><strong>The nlp-team Model Registry moves to the new Registry.</strong></p>"
        ),
        "starts_at": "2026-11-02T09:30:00Z",
        "ends_at": "2026-12-07T09:30:00Z",
        "link": None,
        "event": {"label": "Writes pause", "at": "2026-12-14T09:30:00Z"},
        "dismissible": True,
        "revision": 1,
    },
    response_only=True,
    status_codes=["200"],
)
DISMISSAL_EXAMPLE = OpenApiExample(
    "Dismissal",
    value={"notice": 12, "revision": 1, "dismissed_at": "2026-11-03T08:15:00Z"},
    response_only=True,
    status_codes=["200"],
)


class NoticePagination(CursorPagination):
    """The banners' order: most severe first, then the earliest started."""

    ordering = ("severity_rank", "starts_at", "id")


class NoticeViewSet(ApiViewSet):
    serializer_class = NoticeSerializer
    pagination_class = NoticePagination
    filter_backends = []
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        if self.is_schema_request:
            return Notice.objects.none()
        return active_notices(self.request.user).with_severity_rank()

    def _notice(self, pk) -> Notice:
        """Return a notice whose audience includes the caller, shown now or not."""
        number = clean_id(pk)
        notice = None
        if number is not None:
            notice = Notice.objects.visible_to(self.request.user).filter(pk=number).first()
        if notice is None:
            raise NotFound(f"The notice {pk} was not found among your notices.")
        return notice

    @extend_schema(
        summary="List the caller's notices",
        description=(
            "The notices shown to the caller now, as the banners at the top of the pages: "
            "those whose audience includes the caller (everyone, their organizations, their "
            "teams, or the admins of an organization or registry they administer), between "
            "`starts_at` and `ends_at`, minus the revisions the caller dismissed. Most severe "
            "first."
        ),
        examples=[NOTICE_EXAMPLE],
    )
    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(NoticeSerializer(page, many=True).data)

    @extend_schema(
        summary="Dismiss a notice",
        description=(
            "Hides one revision of the notice from the caller on every device; a later "
            "revision shows again. Dismissing twice changes nothing. A notice that is not "
            "`dismissible`, such as a write pause, is rejected with 400."
        ),
        parameters=[NOTICE_ID_PARAMETER],
        request=NoticeDismissSerializer,
        responses={200: DismissalSerializer},
        examples=[DISMISSAL_EXAMPLE],
    )
    @action(detail=True, methods=["post"])
    def dismiss(self, request, pk: str):
        notice = self._notice(pk)

        serializer = NoticeDismissSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)

        try:
            dismissal = services.dismiss_notice(
                notice=notice,
                user=request.user,
                revision=serializer.validated_data.get("revision"),
            )
        except services.NoticeNotDismissible as error:
            raise ValidationError(str(error), code="not_dismissible") from None
        except DjangoValidationError as error:
            raise ValidationError({"revision": error.messages}) from None

        return Response(DismissalSerializer(dismissal).data)
