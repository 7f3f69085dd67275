"""Grants of registry roles, and the effective role of a person, read from permissions.

Ways a person holds a role on a registry, highest wins:
    direct       permissions granted to the user
    team         permissions granted to the group of a team the user is in
    organization the Viewer bundle granted to the organization's members group
                 (only while the registry has Organization visibility)
    org admin    the Admin bundle granted to the organization's admins group
"""

from collections import defaultdict
from collections.abc import Iterable
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
    """The user's effective role on the registry, from every grant that reaches them."""
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


def _codenames_by(rows: Iterable[tuple[int, str]]) -> dict[int, set[str]]:
    grouped: dict[int, set[str]] = defaultdict(set)
    for key, codename in rows:
        grouped[key].add(codename)
    return grouped


def member_rows(registry: Registry) -> list[MemberRow]:
    """Every user and team granted a role on the registry, with granted and effective roles.

    Runs a fixed number of queries whatever the number of members.
    """
    organization = registry.organization
    by_user = _codenames_by(
        RegistryUserObjectPermission.objects.filter(content_object=registry).values_list(
            "user_id", "permission__codename"
        )
    )
    by_group = _codenames_by(
        RegistryGroupObjectPermission.objects.filter(content_object=registry).values_list(
            "group_id", "permission__codename"
        )
    )
    group_roles = {gid: role_from_codenames(codes) for gid, codes in by_group.items()}
    teams = {
        team.group_id: team
        for team in Team.objects.filter(organization=organization, group_id__in=group_roles)
    }
    users = {
        user.pk: user
        for user in get_user_model()
        .objects.filter(pk__in=by_user)
        .select_related("service_account")
        .prefetch_related("groups")
    }

    rows: list[MemberRow] = []
    for user_id, codes in by_user.items():
        user = users[user_id]
        granted = role_from_codenames(codes)
        if granted is None:
            continue
        sources = [RoleSource(granted, "direct")]
        for group in user.groups.all():
            role = group_roles.get(group.pk)
            if role is None:
                continue
            if group.pk in teams:
                sources.append(RoleSource(role, f"team {teams[group.pk].name}"))
            elif group.pk == organization.admins_group_id:
                sources.append(RoleSource(role, "org admin"))
            elif group.pk == organization.members_group_id:
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
