"""Reads about the signed-in person's organizations and teams, for pages and the top bar."""

from apps.orgs.models import Organization, Team, TeamRole


def sole_organization(user) -> Organization | None:
    """Return the person's organization when they belong to exactly one, else None."""
    if not getattr(user, "is_authenticated", False):
        return None
    organizations = list(Organization.objects.filter(memberships__user=user).order_by("pk")[:2])
    return organizations[0] if len(organizations) == 1 else None


def administered_teams(user, organization: Organization | None = None) -> list[Team]:
    """List the teams the person is an admin of, in the organization if given."""
    if not getattr(user, "is_authenticated", False):
        return []
    teams = Team.objects.filter(memberships__user=user, memberships__role=TeamRole.ADMIN)
    if organization is not None:
        teams = teams.filter(organization=organization)
    return list(teams.select_related("organization").order_by("organization__name", "name"))
