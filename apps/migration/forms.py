"""Forms of the migration console.

The window start is entered as a wall-clock time in a zone the support person picks, and
turned into UTC here. The services check the lead-time and name rules.
"""

from datetime import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef

from apps.legacy.models import LegacyRegistry
from apps.migration.models import ACTIVE_STATES, MigrationPlan
from apps.migration.services import minimum_lead
from apps.orgs.forms import time_zone_field
from apps.orgs.models import Team
from apps.orgs.timezones import get_zone, parse_local_input
from apps.registry.models import Visibility

WINDOW_HELP = "Write 2027-03-14 18:30 in the zone chosen above; a date alone means 00:00."


def migratable_teams():
    """Teams with a legacy registry that is not migrated and has no plan in progress."""
    active = MigrationPlan.objects.filter(team=OuterRef("pk"), state__in=ACTIVE_STATES)
    with_legacy = LegacyRegistry.objects.filter(team=OuterRef("pk"), read_only_since=None)
    return (
        Team.objects.filter(Exists(with_legacy))
        .exclude(Exists(active))
        .select_related("organization")
        .order_by("organization__name", "name")
    )


class TeamChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Team) -> str:
        return f"{obj.organization.name} / {obj.name}"


class WindowFields(forms.Form):
    """The window start in a chosen zone, and the reason for a start sooner than allowed."""

    time_zone = time_zone_field(label="Time zone of the window start")
    window_start = forms.CharField(label="Window start", help_text=WINDOW_HELP)
    override_reason = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Override reason",
        help_text="Needed only when the window starts sooner than the minimum lead time.",
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        days = minimum_lead().days
        self.fields["override_reason"].help_text = (
            f"Needed only when the window starts less than {days} days from now: people must "
            f"be told {days} days ahead, so say why this one cannot wait."
        )

    def clean(self) -> dict:
        data = super().clean()
        if "time_zone" in data and "window_start" in data:
            try:
                data["window_start_utc"] = parse_local_input(
                    data["window_start"], get_zone(data["time_zone"]), date_only_means="start"
                )
            except ValidationError as error:
                self.add_error("window_start", error)
        return data

    @property
    def window_start_utc(self) -> datetime:
        return self.cleaned_data["window_start_utc"]


class ScheduleForm(WindowFields):
    team = TeamChoiceField(
        queryset=Team.objects.none(),
        help_text="Teams whose legacy Model Registry is not migrated and has no plan yet.",
    )
    target_name = forms.CharField(
        required=False,
        max_length=113,
        label="Target registry name",
        help_text="Empty: the team's name, so paths become ORG/wandb-registry-TEAM/...",
    )
    target_visibility = forms.ChoiceField(
        choices=Visibility.choices,
        initial=Visibility.RESTRICTED,
        widget=forms.RadioSelect,
        label="Target visibility",
        help_text="Restricted: only the people the migration adds. Organization: every "
        "member of the organization can read it too.",
    )

    field_order = [
        "team",
        "time_zone",
        "window_start",
        "target_name",
        "target_visibility",
        "override_reason",
    ]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = migratable_teams()


class MoveForm(WindowFields):
    pass
