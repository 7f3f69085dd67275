"""Keeps a migration plan's notices in step with the plan, from its state and times.

Called by the plan's services inside their transactions, after each change of window or
state. The timeline itself (which banners, when, saying what) is computed by
apps.notices.migration_schedule; this module only supplies the plan's facts.
"""

from datetime import datetime, timedelta

from django.urls import reverse
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.migration.models import MigrationPlan, PlanState
from apps.notices.migration_schedule import (
    MigrationFacts,
    migration_aborted_spec,
    migration_key_prefix,
    migration_notice_specs,
    team_notice_values,
)
from apps.notices.models import Notice
from apps.notices.services import sync_notices
from apps.registry.paths import LEGACY_PROJECT, registry_prefix


def plan_facts(plan: MigrationPlan) -> MigrationFacts:
    organization = plan.team.organization.name
    # Once the copy exists its registry may be renamed, so the notices name it as it is now.
    registry_name = plan.target_registry.name if plan.target_registry else plan.target_name
    url = ""
    if plan.state == PlanState.COMPLETED:
        url = reverse(
            "registry:registry_detail",
            kwargs={"org": organization, "registry": registry_name},
        )
    return MigrationFacts(
        team_name=plan.team.name,
        legacy_path=f"{plan.team.name}/{LEGACY_PROJECT}",
        new_path=f"{organization}/{registry_prefix()}{registry_name}",
        registry_name=registry_name,
        new_registry_url=url,
    )


def sync_plan_notices(plan_id: int, *, at: datetime, actor=None) -> None:
    """Create, move or end the plan's notices so they match the plan as it is now.

    The pause starts at the real start once the plan runs, so starting early moves the
    pause banner too. An aborted plan whose notices had started to show gets a notice that
    it was cancelled. Otherwise its notices just end.
    """
    plan = MigrationPlan.objects.select_related("team__organization", "target_registry").get(
        pk=plan_id
    )
    facts = plan_facts(plan)
    prefix = migration_key_prefix(plan.pk)

    if plan.state == PlanState.ABORTED:
        announced = Notice.objects.filter(origin_key__startswith=prefix, starts_at__lte=at).exists()
        aborted_at = plan.aborted_at or at
        specs = [migration_aborted_spec(aborted_at=aborted_at, facts=facts)] if announced else []
    else:
        specs = migration_notice_specs(
            window_start=plan.started_at or plan.window_start,
            expected_pause=timedelta(seconds=plan.estimated_pause_seconds),
            facts=facts,
            scheduled_at=min(plan.created_at, at),
            completed_at=plan.completed_at,
        )

    sync_notices(
        origin_key_prefix=prefix,
        values_by_key=team_notice_values(specs, plan_id=plan.pk, team=plan.team),
        at=at,
        actor=actor,
    )


def on_registry_renamed(event: AuditEvent) -> None:
    """Re-sync the notices of the plans that copied into a registry that was just renamed.

    Registered as an audit event listener in MigrationConfig.ready, so it runs inside the
    rename's transaction and the banners never name a registry that no longer exists.
    """
    if event.action != "registry.updated" or "name" not in event.data.get("fields", []):
        return
    plan_ids = MigrationPlan.objects.filter(target_registry_id=event.registry_id).values_list(
        "pk", flat=True
    )
    for plan_id in plan_ids:
        sync_plan_notices(plan_id, at=timezone.now(), actor=event.actor)
