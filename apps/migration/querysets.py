"""The gate of migration plans: every read of a plan starts from visible_to(user)."""

from django.db import models

from apps.orgs.models import TeamRole
from apps.orgs.support import is_support


class MigrationPlanQuerySet(models.QuerySet):
    def visible_to(self, user) -> "MigrationPlanQuerySet":
        """Support staff see every plan; a team's admins see the plans of their team."""
        if user is None or not getattr(user, "is_authenticated", False):
            return self.none()
        if is_support(user):
            return self.all()
        return self.filter(
            team__memberships__user=user, team__memberships__role=TeamRole.ADMIN
        ).distinct()
