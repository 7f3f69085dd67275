"""The gates for notices: who is in a notice's audience, and which notices are live now.

Each filter is a subquery, so "the notices this person sees now" stays one SQL query whatever
the number of their teams, organizations and registries.
"""

from django.db import models
from django.db.models import Case, Exists, IntegerField, OuterRef, Q, Value, When

from apps.orgs.support import is_support


class NoticeQuerySet(models.QuerySet):
    def visible_to(self, user) -> "NoticeQuerySet":
        """Notices whose audience includes the user, at any time.

        Signed-out visitors are in the audience of "everyone" notices only.
        """
        from apps.notices.models import Audience
        from apps.orgs.models import OrgMembership, OrgRole, TeamMembership
        from apps.registry.models import Registry

        if not getattr(user, "is_authenticated", False):
            return self.filter(audience=Audience.EVERYONE)

        organizations = OrgMembership.objects.filter(user=user).values("organization_id")
        admin_organizations = OrgMembership.objects.filter(user=user, role=OrgRole.ADMIN).values(
            "organization_id"
        )
        teams = TeamMembership.objects.filter(user=user).values("team_id")
        registries = Registry.objects.administrable_by(user).values("pk")
        return self.filter(
            Q(audience=Audience.EVERYONE)
            | Q(audience=Audience.ORGANIZATION, organization__in=organizations)
            | Q(audience__in=[Audience.TEAM, Audience.TEAM_AND_ORG_ADMINS], team__in=teams)
            | Q(
                audience__in=[Audience.ORG_ADMINS, Audience.TEAM_AND_ORG_ADMINS],
                organization__in=admin_organizations,
            )
            | Q(audience=Audience.REGISTRY_ADMINS, registry__in=registries)
        )

    def manageable_by(self, user) -> "NoticeQuerySet":
        """Return every notice for support staff, none for anyone else."""
        return self if is_support(user) else self.none()

    def active_at(self, now) -> "NoticeQuerySet":
        return self.filter(Q(starts_at__lte=now), Q(ends_at__isnull=True) | Q(ends_at__gt=now))

    def undismissed_by(self, user) -> "NoticeQuerySet":
        """Drop dismissible notices whose current revision the user dismissed."""
        from apps.notices.models import Dismissal

        if not getattr(user, "is_authenticated", False):
            return self
        dismissed = Dismissal.objects.filter(
            user=user, notice=OuterRef("pk"), revision=OuterRef("revision")
        )
        return self.exclude(Q(dismissible=True) & Exists(dismissed))

    def with_severity_rank(self) -> "NoticeQuerySet":
        """Annotate `severity_rank`: 0 for critical, 1 for warning, 2 for info."""
        from apps.notices.models import SEVERITY_RANK

        severity_rank = Case(
            *(When(severity=name, then=Value(rank)) for name, rank in SEVERITY_RANK.items()),
            default=Value(len(SEVERITY_RANK)),
            output_field=IntegerField(),
        )
        return self.annotate(severity_rank=severity_rank)

    def by_severity(self) -> "NoticeQuerySet":
        """Most severe first, then the earliest started."""
        return self.with_severity_rank().order_by("severity_rank", "starts_at", "pk")
