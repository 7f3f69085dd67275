"""Forms of the support console and of the dismiss button.

Times are entered in a zone the support person picks (their own by default) and turned into
UTC here, before the service receives them.
"""

from datetime import datetime

from django import forms
from django.core.exceptions import ValidationError

from apps.notices.models import Audience, Notice, Severity
from apps.notices.services import NoticeFields, clean_notice_fields
from apps.orgs.forms import time_zone_field
from apps.orgs.models import Organization, Team
from apps.orgs.timezones import format_input_value, get_zone, parse_local_input
from apps.registry.models import Registry

TIME_HELP = "Write 2027-03-14 or 2027-03-14 18:30, in the zone chosen above."


class TeamChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Team) -> str:
        return f"{obj.organization.name} / {obj.name}"


class RegistryChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Registry) -> str:
        return f"{obj.organization.name} / {obj.name}"


class NoticeForm(forms.Form):
    message = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Markdown: **bold**, _italic_, `code`, [a link](https://example.com). "
        "HTML is removed.",
    )
    severity = forms.ChoiceField(choices=Severity.choices, initial=Severity.INFO)
    audience = forms.ChoiceField(choices=Audience.choices, initial=Audience.EVERYONE)
    organization = forms.ModelChoiceField(
        # Support staff address any organization, team or registry: the console's gate is
        # the support permission, checked by the view before this form exists.
        queryset=Organization.objects.order_by("name"),
        required=False,
        help_text="For the audiences of an organization and of its admins.",
    )
    team = TeamChoiceField(
        queryset=Team.objects.select_related("organization").order_by("organization__name", "name"),
        required=False,
        help_text="For the team audiences.",
    )
    registry = RegistryChoiceField(
        queryset=Registry.objects.select_related("organization").order_by(
            "organization__name", "name"
        ),
        required=False,
        help_text="For the audience of a registry's admins.",
    )
    time_zone = time_zone_field(label="Time zone of the times below")
    starts_at = forms.CharField(
        required=False,
        label="Starts",
        help_text=f"Empty: now. A date alone means the start of that day. {TIME_HELP}",
    )
    ends_at = forms.CharField(
        required=False,
        label="Ends",
        help_text="Empty: shown until ended. A date alone means the end of that day "
        f"(23:59:59). {TIME_HELP}",
    )
    event_at = forms.CharField(
        required=False,
        label="Key moment",
        help_text="Optional: a moment each reader sees in their own zone, with how far away "
        f"it is. {TIME_HELP}",
    )
    event_label = forms.CharField(
        required=False,
        max_length=100,
        label="Key moment label",
        help_text='Words before the moment, such as "Maintenance starts".',
    )
    link_url = forms.CharField(
        required=False,
        max_length=500,
        label="Link URL",
        help_text="An http or https URL, or a path on this site such as /orgs/acme/.",
    )
    link_label = forms.CharField(required=False, max_length=100, label="Link label")
    dismissible = forms.BooleanField(
        required=False,
        initial=True,
        help_text="Clear it for notices that must stay on screen until they end.",
    )

    def __init__(self, *args, now: datetime, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.now = now

    def clean(self) -> dict:
        data = super().clean()
        if self.errors:
            return data
        zone = get_zone(data["time_zone"])
        moments = {}
        for name, date_only_means in (
            ("starts_at", "start"),
            ("ends_at", "end"),
            ("event_at", "start"),
        ):
            text = data.get(name, "").strip()
            if not text:
                moments[name] = None
                continue
            try:
                moments[name] = parse_local_input(text, zone, date_only_means=date_only_means)
            except ValidationError as error:
                self.add_error(name, error)
        if self.errors:
            return data

        values = NoticeFields(
            message=data["message"],
            severity=data["severity"],
            starts_at=moments["starts_at"] or self.now,
            ends_at=moments["ends_at"],
            audience=data["audience"],
            organization=data.get("organization"),
            team=data.get("team"),
            registry=data.get("registry"),
            link_url=data.get("link_url", ""),
            link_label=data.get("link_label", ""),
            dismissible=data.get("dismissible", False),
            event_at=moments["event_at"],
            event_label=data.get("event_label", ""),
        )
        try:
            data["values"] = clean_notice_fields(values)
        except ValidationError as error:
            self.add_error(None, error)
        return data

    @classmethod
    def initial_for(cls, notice: Notice, *, time_zone: str) -> dict:
        zone = get_zone(time_zone)

        def local(moment: datetime | None) -> str:
            return format_input_value(moment, zone) if moment is not None else ""

        return {
            "message": notice.message,
            "severity": notice.severity,
            "audience": notice.audience,
            "organization": notice.organization_id,
            "team": notice.team_id,
            "registry": notice.registry_id,
            "time_zone": time_zone,
            "starts_at": local(notice.starts_at),
            "ends_at": local(notice.ends_at),
            "event_at": local(notice.event_at),
            "event_label": notice.event_label,
            "link_url": notice.link_url,
            "link_label": notice.link_label,
            "dismissible": notice.dismissible,
        }


class PreviewForm(forms.Form):
    person = forms.CharField(
        max_length=150, label="Person", help_text="The username of the person to preview as."
    )
    time_zone = time_zone_field(label="Time zone of the moment")
    at = forms.CharField(
        required=False,
        label="Moment",
        help_text=f"Empty: now. Pick a later moment to see a scheduled notice. {TIME_HELP}",
    )

    def clean(self) -> dict:
        data = super().clean()
        if self.errors:
            return data
        text = data.get("at", "").strip()
        data["moment"] = None
        if text:
            try:
                data["moment"] = parse_local_input(
                    text, get_zone(data["time_zone"]), date_only_means="start"
                )
            except ValidationError as error:
                self.add_error("at", error)
        return data


class DismissForm(forms.Form):
    revision = forms.IntegerField(min_value=1, required=False)
    next = forms.CharField(required=False, max_length=2000)
