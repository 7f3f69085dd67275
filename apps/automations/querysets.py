"""The gate for automations: every read starts from one of these querysets.

Automations and their executions are visible through their registry, exactly like the
registry's collections. An integration is visible to the members of its team, and only the
team's admins may change it.
"""

from django.db import models

from apps.orgs.models import TeamRole


def _authenticated(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False)


def _visible_registry_ids(user):
    from apps.registry.models import Registry

    return Registry.objects.visible_to(user).values("pk")


class WebhookIntegrationQuerySet(models.QuerySet):
    def _with_team_role(self, user, roles) -> "WebhookIntegrationQuerySet":
        if not _authenticated(user):
            return self.none()
        from apps.orgs.models import TeamMembership

        teams = TeamMembership.objects.filter(user=user, role__in=roles).values("team_id")
        return self.filter(team__in=teams)

    def visible_to(self, user) -> "WebhookIntegrationQuerySet":
        return self._with_team_role(user, TeamRole.values)

    def usable_by(self, user) -> "WebhookIntegrationQuerySet":
        """Integrations that the user may pick as the target of an automation."""
        return self._with_team_role(user, [TeamRole.ADMIN, TeamRole.MEMBER])

    def managed_by(self, user) -> "WebhookIntegrationQuerySet":
        return self._with_team_role(user, [TeamRole.ADMIN])


class AutomationQuerySet(models.QuerySet):
    def visible_to(self, user) -> "AutomationQuerySet":
        if not _authenticated(user):
            return self.none()
        return self.filter(registry__in=_visible_registry_ids(user))


class ExecutionQuerySet(models.QuerySet):
    def visible_to(self, user) -> "ExecutionQuerySet":
        if not _authenticated(user):
            return self.none()
        return self.filter(automation__registry__in=_visible_registry_ids(user))
