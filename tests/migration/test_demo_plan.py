"""The demo loader schedules nlp-team's migration five weeks ahead, once."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from apps.migration.models import MigrationPlan, PlanState


@pytest.mark.django_db
@override_settings(DEBUG=True)
def test_demo_schedules_nlp_team_once():
    first = StringIO()
    call_command("load_demo", stdout=first)
    call_command("load_demo", stdout=StringIO())

    plan = MigrationPlan.objects.get()
    assert plan.team.name == "nlp-team"
    assert plan.state == PlanState.SCHEDULED
    assert plan.target_name == "nlp-team"
    assert plan.created_by.username == "support"
    assert plan.override_reason == ""
    ahead = plan.window_start - timezone.now()
    assert timedelta(weeks=5) - timedelta(hours=1) < ahead <= timedelta(weeks=5)
    assert plan.estimated_rows > 400
    assert "Scheduled the migration of nlp-team to the registry 'nlp-team'" in first.getvalue()
