"""Grants of registry roles, and the effective role of a person, read from permissions.

Ways a person holds a role on a registry, highest wins:
    direct       permissions granted to the user
    team         permissions granted to the group of a team the user is in
    organization the Viewer bundle granted to the organization's members group
                 (only while the registry has Organization visibility)
    org admin    the Admin bundle granted to the organization's admins group
"""

from collections import defaultdict
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType

from apps.orgs.models import Team
from apps.registry.models import (
    Registry,
    RegistryGroupObjectPermission,
    RegistryUserObjectPermission,
)
from apps.registry.roles import BUNDLES, Role, role_from_codenames


def _permissions_for(role: Role) -> list[Permission]:
    content_type = ContentType.objects.get_for_model(Registry)
    return list(Permission.objects.filter(content_type=content_type, codename__in=BUNDLES[role]))


def grant_role(registry: Registry, principal, role: Role) -> None:
    """Make `role` the principal's granted role on the registry (a user or a group)."""
    revoke_all(registry, principal)
    if isinstance(principal, Group):
        RegistryGroupObjectPermission.objects.bulk_create(
            RegistryGroupObjectPermission(group=principal, permission=p, content_object=registry)
            for p in _permissions_for(role)
        )
    else:
        RegistryUserObjectPermission.objects.bulk_create(
            RegistryUserObjectPermission(user=principal, permission=p, content_object=registry)
            for p in _permissions_for(role)
        )


def revoke_all(registry: Registry, principal) -> int:
    if isinstance(principal, Group):
        deleted, _ = RegistryGroupObjectPermission.objects.filter(
            content_object=registry, group=principal
        ).delete()
    else:
        deleted, _ = RegistryUserObjectPermission.objects.filter(
            content_object=registry, user=principal
        ).delete()
    return deleted


def role_of(user, registry: Registry) -> Role | None:
    """Return the user's effective role on the registry, from every grant that reaches them."""
    if not getattr(user, "is_authenticated", False):
        return None
    direct = RegistryUserObjectPermission.objects.filter(
        content_object=registry, user=user
    ).values_list("permission__codename", flat=True)
    through_groups = RegistryGroupObjectPermission.objects.filter(
        content_object=registry, group__user=user
    ).values_list("permission__codename", flat=True)
    return role_from_codenames(direct.union(through_groups))


@dataclass
class RoleSource:
    role: Role
    source: str  # "direct", "team <name>", "organization" or "org admin"


@dataclass
class MemberRow:
    """One entry of a registry's member list: a user or a team with its granted role."""

    kind: str  # "user", "service account" or "team"
    name: str
    granted: Role
    principal: object
    is_owner: bool = False
    effective: Role | None = None
    sources: list[RoleSource] = field(default_factory=list)

    @property
    def effective_source(self) -> str:
        best = [s.source for s in self.sources if s.role == self.effective]
        return ", ".join(best)


def member_rows(registry: Registry) -> list[MemberRow]:
    """List every user and team granted a role on the registry, with granted and effective roles.

    Runs three queries whatever the number of members: the group grants with their teams,
    the user grants with their users, and which of those users are in the granted groups.
    """
    organization = registry.organization
    group_grants = RegistryGroupObjectPermission.objects.filter(
        content_object=registry
    ).select_related("permission", "group__team")
    by_group: dict[int, set[str]] = defaultdict(set)
    teams: dict[int, Team] = {}
    for grant in group_grants:
        by_group[grant.group_id].add(grant.permission.codename)
        team = getattr(grant.group, "team", None)
        if team is not None and team.organization_id == organization.pk:
            teams[grant.group_id] = team
    group_roles = {gid: role_from_codenames(codes) for gid, codes in by_group.items()}

    user_grants = RegistryUserObjectPermission.objects.filter(
        content_object=registry
    ).select_related("permission", "user__service_account")
    by_user: dict[int, set[str]] = defaultdict(set)
    users = {}
    for grant in user_grants:
        by_user[grant.user_id].add(grant.permission.codename)
        users[grant.user_id] = grant.user

    groups_of: dict[int, list[int]] = defaultdict(list)
    if users and group_roles:
        memberships = (
            get_user_model()
            .groups.through.objects.filter(user_id__in=users, group_id__in=group_roles)
            .order_by("group_id")
            .values_list("user_id", "group_id")
        )
        for user_id, group_id in memberships:
            groups_of[user_id].append(group_id)

    rows: list[MemberRow] = []
    for user_id, codes in by_user.items():
        user = users[user_id]
        granted = role_from_codenames(codes)
        if granted is None:
            continue
        sources = [RoleSource(granted, "direct")]
        for group_id in groups_of[user_id]:
            role = group_roles.get(group_id)
            if role is None:
                continue
            if group_id in teams:
                sources.append(RoleSource(role, f"team {teams[group_id].name}"))
            elif group_id == organization.admins_group_id:
                sources.append(RoleSource(role, "org admin"))
            elif group_id == organization.members_group_id:
                sources.append(RoleSource(role, "organization"))
        kind = "service account" if hasattr(user, "service_account") else "user"
        rows.append(
            MemberRow(
                kind=kind,
                name=user.username,
                granted=granted,
                principal=user,
                is_owner=registry.owner_id == user.pk,
                effective=max(s.role for s in sources),
                sources=sources,
            )
        )
    for group_id, team in teams.items():
        role = group_roles[group_id]
        if role is None:
            continue
        rows.append(
            MemberRow(
                kind="team",
                name=team.name,
                granted=role,
                principal=team,
                effective=role,
                sources=[RoleSource(role, f"team {team.name}")],
            )
        )
    rows.sort(key=lambda row: (row.kind == "team", row.name.lower()))
    return rows


def admin_count(registry: Registry) -> int:
    """Users and teams granted Admin directly on the registry (org admins not counted)."""
    from apps.registry.roles import ADMIN

    users = RegistryUserObjectPermission.objects.filter(
        content_object=registry, permission__codename=ADMIN
    ).count()
    teams = RegistryGroupObjectPermission.objects.filter(
        content_object=registry, permission__codename=ADMIN, group__team__isnull=False
    ).count()
    return users + teams
