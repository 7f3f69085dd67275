"""Writes to organizations, teams and their memberships.

Membership rows and the auth groups that registry grants point at change together here, in
one transaction, so removing someone from a team removes the access that came through the
team on the very next request.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction

from apps.core.validators import validate_name
from apps.orgs.models import (
    Organization,
    OrgMembership,
    OrgRole,
    ServiceAccount,
    Team,
    TeamMembership,
    TeamRole,
)


def ensure_org_groups(organization: Organization) -> Organization:
    """Create the organization's members and admins groups when it has none yet."""
    changed = []
    if organization.members_group_id is None:
        organization.members_group = Group.objects.create(name=f"org-{organization.pk}-members")
        changed.append("members_group")
    if organization.admins_group_id is None:
        organization.admins_group = Group.objects.create(name=f"org-{organization.pk}-admins")
        changed.append("admins_group")
    if changed:
        organization.save(update_fields=changed)
    return organization


def add_org_member(*, organization: Organization, user, role: str = OrgRole.MEMBER):
    if role not in OrgRole.values:
        raise ValidationError(f"'{role}' is not an organization role; use admin, member or viewer.")
    with transaction.atomic():
        ensure_org_groups(organization)
        membership, _ = OrgMembership.objects.update_or_create(
            organization=organization, user=user, defaults={"role": role}
        )
        user.groups.add(organization.members_group)
        if role == OrgRole.ADMIN:
            user.groups.add(organization.admins_group)
        else:
            user.groups.remove(organization.admins_group)
    return membership


def remove_org_member(*, organization: Organization, user) -> None:
    """Take a user out of the organization and of all its teams."""
    with transaction.atomic():
        for membership in TeamMembership.objects.filter(
            team__organization=organization, user=user
        ).select_related("team"):
            remove_team_member(team=membership.team, user=user)
        OrgMembership.objects.filter(organization=organization, user=user).delete()
        groups = [g for g in (organization.members_group, organization.admins_group) if g]
        user.groups.remove(*groups)


def create_team(*, organization: Organization, name: str) -> Team:
    validate_name(name, kind="team name")
    with transaction.atomic():
        team = Team.objects.create(organization=organization, name=name)
        team.group = Group.objects.create(name=f"team-{team.pk}")
        team.save(update_fields=["group"])
    return team


def add_team_member(*, team: Team, user, role: str = TeamRole.MEMBER) -> TeamMembership:
    if role not in TeamRole.values:
        raise ValidationError(f"'{role}' is not a team role; use admin, member or viewer.")
    if not OrgMembership.objects.filter(organization=team.organization_id, user=user).exists():
        raise ValidationError(
            f"{user.username} is not a member of the organization; add them to it first."
        )
    with transaction.atomic():
        membership, _ = TeamMembership.objects.update_or_create(
            team=team, user=user, defaults={"role": role}
        )
        if team.group_id:
            user.groups.add(team.group)
    return membership


def remove_team_member(*, team: Team, user) -> None:
    with transaction.atomic():
        TeamMembership.objects.filter(team=team, user=user).delete()
        if team.group_id:
            user.groups.remove(team.group)


def create_service_account(*, team: Team, name: str, description: str = "") -> ServiceAccount:
    """Create a non-human user in the team; it signs in only with API keys."""
    validate_name(name, kind="service account name")
    user_model = get_user_model()
    if user_model.objects.filter(username__iexact=name).exists():
        raise ValidationError(f"The name '{name}' is already taken by a user; choose another.")
    with transaction.atomic():
        user = user_model.objects.create_user(username=name)
        user.set_unusable_password()
        user.save(update_fields=["password"])
        account = ServiceAccount.objects.create(team=team, user=user, description=description)
        add_org_member(organization=team.organization, user=user, role=OrgRole.MEMBER)
        add_team_member(team=team, user=user, role=TeamRole.MEMBER)
    return account
