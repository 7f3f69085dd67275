"""Checks that a service runs before it writes to what a team owns: its projects and runs.

A team's admins and members write to its projects, and so do the admins of its organization,
because the MLflow importer and the demo act as one. Team viewers and other users only read
what they can see.
"""

from django.core.exceptions import PermissionDenied

from apps.orgs.models import OrgMembership, OrgRole, Team, TeamMembership, TeamRole

TEAM_WRITER_ROLES = (TeamRole.ADMIN, TeamRole.MEMBER)


def can_write_to_team(user, team: Team) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    if TeamMembership.objects.filter(team=team, user=user, role__in=TEAM_WRITER_ROLES).exists():
        return True
    return OrgMembership.objects.filter(
        organization_id=team.organization_id, user=user, role=OrgRole.ADMIN
    ).exists()


def require_team_writer(user, team: Team, action: str = "Writing to the projects") -> None:
    """Raise PermissionDenied unless the user may write to the team's projects.

    `action` starts the message, as in "Creating a project in the team 'x' needs ...".
    """
    if not can_write_to_team(user, team):
        raise PermissionDenied(
            f"{action} in the team '{team.name}' needs the team's member or admin role; team "
            f"viewers can only read. Ask a team admin for the member role."
        )
