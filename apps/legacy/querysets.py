"""The gate of the legacy Model Registry: every read of its rows starts from these querysets.

A team's legacy registry is visible to the team's members, whatever their team role, until
it is hidden: `read_only_since` plus the retention window (LEGACY_RETENTION_DAYS) has
passed. Support staff see every legacy registry in every state, read-only. Nobody else sees
one, organization admins included: the legacy registry belonged to the team alone, and an
org admin who needs it joins the team.

Registered models and versions are visible through their legacy registry, so a hidden or
foreign legacy registry hides everything under it.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from apps.orgs.support import is_support_expression


def _authenticated(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False)


def _is_team_member(user) -> Exists:
    from apps.orgs.models import TeamMembership

    return Exists(TeamMembership.objects.filter(team=OuterRef("team"), user=user))


def retention() -> timedelta:
    return timedelta(days=settings.LEGACY_RETENTION_DAYS)


def not_hidden(now: datetime | None = None, prefix: str = "") -> Q:
    """Rows whose legacy registry is not hidden at `now`."""
    cutoff = (now or timezone.now()) - retention()
    return Q(**{f"{prefix}read_only_since__isnull": True}) | Q(
        **{f"{prefix}read_only_since__gt": cutoff}
    )


class LegacyRegistryQuerySet(models.QuerySet):
    def of_members(self, user) -> "LegacyRegistryQuerySet":
        """The legacy registries of the user's teams in every state, hidden ones included.

        Support staff get every legacy registry. Path resolution starts here, because a
        legacy path keeps working for the team after its registry is hidden. Membership and
        the support permission are both checked inside the query, so the gate costs no query
        of its own.
        """
        if not _authenticated(user):
            return self.none()
        return self.filter(_is_team_member(user) | is_support_expression(user))

    def in_navigation_of(self, user, now: datetime | None = None) -> "LegacyRegistryQuerySet":
        """The not-hidden legacy registries of the user's own teams, support staff included.

        It reads no permissions, so the navigation that every page shows costs one query.
        """
        if not _authenticated(user):
            return self.none()
        return self.filter(not_hidden(now), team__memberships__user=user)

    def visible_to(self, user, now: datetime | None = None) -> "LegacyRegistryQuerySet":
        """The legacy registries whose pages the user may read at `now`."""
        if not _authenticated(user):
            return self.none()
        return self.filter(
            Q(_is_team_member(user), not_hidden(now)) | Q(is_support_expression(user))
        )


def _visible_registry_ids(user, now: datetime | None):
    from apps.legacy.models import LegacyRegistry

    return LegacyRegistry.objects.visible_to(user, now).values("pk")


class RegisteredModelQuerySet(models.QuerySet):
    def visible_to(self, user, now: datetime | None = None) -> "RegisteredModelQuerySet":
        if not _authenticated(user):
            return self.none()
        return self.filter(legacy_registry__in=_visible_registry_ids(user, now))


class LegacyVersionQuerySet(models.QuerySet):
    def visible_to(self, user, now: datetime | None = None) -> "LegacyVersionQuerySet":
        if not _authenticated(user):
            return self.none()
        return self.filter(model__legacy_registry__in=_visible_registry_ids(user, now))
