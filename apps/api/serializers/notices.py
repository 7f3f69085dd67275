"""Site notices as the caller sees them in the banners, and the caller's dismissals."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.notices.models import Dismissal, Notice

# The largest revision a PositiveIntegerField stores on every supported database.
MAX_REVISION = 2**31 - 1


class NoticeLinkSerializer(serializers.Serializer):
    url = serializers.CharField(help_text="An http(s) URL, or a path on this site.")
    label = serializers.CharField(help_text="The words to show on the link.")


class NoticeEventSerializer(serializers.Serializer):
    label = serializers.CharField(help_text="What happens then, such as 'Writes pause'.")
    at = serializers.DateTimeField(help_text="The moment the notice is about, in UTC.")


class NoticeSerializer(serializers.ModelSerializer):
    """A notice as its banner shows it, with its message as Markdown and as HTML."""

    message = serializers.CharField(
        read_only=True, help_text="The message as Markdown, as support staff wrote it."
    )
    message_html = serializers.CharField(
        read_only=True,
        help_text=(
            "The message rendered to HTML and sanitized: only basic formatting, lists, tables, "
            "code and http(s) or mailto links are kept."
        ),
    )
    link = serializers.SerializerMethodField()
    event = serializers.SerializerMethodField()

    class Meta:
        model = Notice
        fields = [
            "id",
            "severity",
            "message",
            "message_html",
            "starts_at",
            "ends_at",
            "link",
            "event",
            "dismissible",
            "revision",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "ends_at": {"help_text": "When the notice stops showing; null until someone ends it."},
            "revision": {
                "help_text": (
                    "Raised whenever the text, severity, link or event changes; a dismissal "
                    "hides only the revision it names."
                )
            },
        }

    @extend_schema_field(NoticeLinkSerializer(allow_null=True))
    def get_link(self, notice: Notice) -> dict | None:
        if not notice.link_url:
            return None
        return {"url": notice.link_url, "label": notice.link_label}

    @extend_schema_field(NoticeEventSerializer(allow_null=True))
    def get_event(self, notice: Notice) -> dict | None:
        if notice.event_at is None:
            return None
        return NoticeEventSerializer({"label": notice.event_label, "at": notice.event_at}).data


class NoticeDismissSerializer(serializers.Serializer):
    revision = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_REVISION,
        help_text=(
            "The revision the caller saw; the current one when left out. A later revision "
            "shows again."
        ),
    )


class DismissalSerializer(serializers.ModelSerializer):
    notice = serializers.PrimaryKeyRelatedField(read_only=True, help_text="The notice's id.")

    class Meta:
        model = Dismissal
        fields = ["notice", "revision", "dismissed_at"]
        read_only_fields = fields
