"""The permission mapping: who gets which role on the target registry of a migration.

    team admin, legacy registry admin   Admin
    team member                         Member
    team viewer                         Viewer
    service account of the team         its team role, Member at least (it acts from code)
    the organization's admins group     Admin (org admins keep Admin everywhere)
    the organization's members group    Viewer, only for a target with Organization visibility

A person who qualifies twice gets the higher role. Roles are granted to each person, not to
the team's group, because members of one team hold different roles.
"""

from dataclasses import dataclass, field

from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType

from apps.legacy.models import LegacyRegistry
from apps.orgs.models import ServiceAccount, TeamMembership, TeamRole
from apps.orgs.services import ensure_org_groups
from apps.registry.models import (
    Registry,
    RegistryGroupObjectPermission,
    RegistryUserObjectPermission,
    Visibility,
)
from apps.registry.roles import BUNDLES, Role

TEAM_ROLES = {
    TeamRole.ADMIN: Role.ADMIN,
    TeamRole.MEMBER: Role.MEMBER,
    TeamRole.VIEWER: Role.VIEWER,
}


@dataclass
class Grant:
    """One row of the mapping: a user or group, its role, and why it gets that role."""

    kind: str  # "user", "service account" or "group"
    name: str  # the username or the group's name, as the permission rows name it
    role: Role
    principal: object
    reasons: list[str] = field(default_factory=list)
    label: str = ""  # how the console names the grantee, when not by `name`

    @property
    def display_name(self) -> str:
        return self.label or self.name

    @property
    def is_group(self) -> bool:
        return self.kind == "group"

    def natural_keys(self) -> list[str]:
        """Return the natural keys of the permission rows this grant writes."""
        principal = "group" if self.is_group else "user"
        return [f"{principal} {self.name} {codename}" for codename in sorted(BUNDLES[self.role])]


def mapping(legacy_registry: LegacyRegistry, visibility: str) -> list[Grant]:
    """List the grants a migration of this legacy registry makes, users first, by name."""
    team = legacy_registry.team
    organization = ensure_org_groups(team.organization)
    users: dict[int, Grant] = {}

    def add(user, role: Role, reason: str, kind: str = "user") -> None:
        grant = users.get(user.pk)
        if grant is None:
            users[user.pk] = Grant(kind, user.username, role, user, [reason])
            return
        grant.role = max(grant.role, role)
        grant.reasons.append(reason)
        if kind != "user":
            grant.kind = kind

    memberships = TeamMembership.objects.filter(team=team).select_related("user")
    for membership in memberships.order_by("user__username"):
        add(membership.user, TEAM_ROLES[membership.role], f"team {membership.role}")
    for account in ServiceAccount.objects.filter(team=team).select_related("user"):
        add(account.user, Role.MEMBER, "service account", kind="service account")
    for user in legacy_registry.admins.order_by("username"):
        add(user, Role.ADMIN, "legacy registry admin")

    rows = sorted(users.values(), key=lambda grant: grant.name.lower())
    admins = organization.admins_group
    rows.append(
        Grant(
            "group",
            admins.name,
            Role.ADMIN,
            admins,
            ["organization admins"],
            label=f"admins of {organization.name}",
        )
    )
    if visibility == Visibility.ORGANIZATION:
        members = organization.members_group
        rows.append(
            Grant(
                "group",
                members.name,
                Role.VIEWER,
                members,
                ["Organization visibility"],
                label=f"members of {organization.name}",
            )
        )
    return rows


def _permissions() -> dict[str, Permission]:
    content_type = ContentType.objects.get_for_model(Registry)
    return {p.codename: p for p in Permission.objects.filter(content_type=content_type)}


def apply(rows: list[Grant], *, registry_id: int) -> None:
    """Write the permission rows of every grant; rows that exist already are skipped.

    Both permission tables are unique on (principal, permission, registry), so running this
    twice, or from two workers at once, writes each row once.
    """
    permissions = _permissions()
    user_rows = []
    group_rows = []
    for grant in rows:
        for codename in BUNDLES[grant.role]:
            if grant.is_group:
                group_rows.append(
                    RegistryGroupObjectPermission(
                        group=grant.principal,
                        permission=permissions[codename],
                        content_object_id=registry_id,
                    )
                )
            else:
                user_rows.append(
                    RegistryUserObjectPermission(
                        user=grant.principal,
                        permission=permissions[codename],
                        content_object_id=registry_id,
                    )
                )
    RegistryUserObjectPermission.objects.bulk_create(user_rows, ignore_conflicts=True)
    RegistryGroupObjectPermission.objects.bulk_create(group_rows, ignore_conflicts=True)


def expected_keys(rows: list[Grant]) -> list[str]:
    return [key for grant in rows for key in grant.natural_keys()]


def target_keys(registry_id: int | None) -> list[str]:
    """Return the natural keys of the target registry's permission rows."""
    if registry_id is None:
        return []
    users = RegistryUserObjectPermission.objects.filter(content_object_id=registry_id)
    groups = RegistryGroupObjectPermission.objects.filter(content_object_id=registry_id)
    keys = [
        f"user {name} {codename}"
        for name, codename in users.values_list("user__username", "permission__codename")
    ]
    keys += [
        f"group {name} {codename}"
        for name, codename in groups.values_list("group__name", "permission__codename")
    ]
    return keys
