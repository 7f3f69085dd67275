"""Queries and template context of the registry settings, members and activity pages.

Reads go through the permission gate like every page (pages.registry_access_queryset), and
each page keeps to a fixed number of queries: the protected aliases come as a JSON list on
the registry row, and access.member_rows reads the members in three queries.
"""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from apps.audit.models import AuditEvent
from apps.core.lookups import equals_ignoring_case
from apps.orgs.models import Team
from apps.registry.access import MemberRow, member_rows
from apps.registry.models import (
    ProtectedAlias,
    Registry,
    RegistryGroupObjectPermission,
    RegistryUserObjectPermission,
)
from apps.registry.pages import (
    json_names,
    page_size,
    registry_access_queryset,
    registry_page_url,
    sorted_names,
    with_access,
    with_query,
)
from apps.registry.pagination import Key, keyset_page
from apps.registry.roles import ROLE_CHOICES, Role

CANDIDATE_LIMIT = 10

# Member kinds in forms: a user (people and service accounts alike) or a team.
USER = "user"
TEAM = "team"


# Settings page ------------------------------------------------------------------------------


def get_settings_registry(user, org: str, name: str) -> Registry:
    """Fetch a visible registry with the user's access and its protected alias names."""
    queryset = registry_access_queryset(user).annotate(
        protected_alias_list=json_names(ProtectedAlias.objects, "registry", "name")
    )
    registry = with_access(
        get_object_or_404(
            queryset.filter(
                equals_ignoring_case("organization__name", org), equals_ignoring_case("name", name)
            )
        )
    )
    registry.protected_alias_names = sorted_names(registry.protected_alias_list)
    return registry


def settings_context(registry: Registry) -> dict:
    """Build the settings page of a registry fetched with get_settings_registry."""
    members = member_rows(registry)
    return {
        "registry": registry,
        "organization": registry.organization,
        "members": members,
        # The count the last-Admin rule of the services uses: granted Admins, org admins not
        # included.
        "admin_count": sum(1 for row in members if row.granted == Role.ADMIN),
        "role_choices": ROLE_CHOICES,
        "settings_url": registry_page_url(registry, "registry_settings"),
    }


# Members ------------------------------------------------------------------------------------


def find_member(registry: Registry, kind: str, name: str):
    """Return the user or team of the registry's organization that a form names.

    A user of another organization is reported like a name that does not exist, so the
    form reveals nothing about people outside the organization.
    """
    organization = registry.organization
    if kind == TEAM:
        team = Team.objects.filter(
            equals_ignoring_case("name", name), organization=organization
        ).first()
        if team is None:
            raise ValidationError(
                f"No team named '{name}' belongs to the organization '{organization.name}'; "
                f"check the spelling."
            )
        return team
    user = (
        get_user_model()
        .objects.filter(org_memberships__organization=organization, username=name)
        .first()
    )
    if user is None:
        raise ValidationError(
            f"No user named '{name}' belongs to the organization '{organization.name}'; check "
            f"the spelling, or add them to the organization first."
        )
    return user


def member_row(rows: list[MemberRow], kind: str, name: str) -> MemberRow | None:
    for row in rows:
        row_kind = TEAM if row.kind == "team" else USER
        if row_kind == kind and row.name.lower() == name.lower():
            return row
    return None


@dataclass(frozen=True)
class Candidate:
    """A user or team of the organization that is not yet a member of the registry."""

    kind: str  # USER or TEAM
    name: str
    label: str  # "user", "service account" or "team"


def member_candidates(registry: Registry, text: str) -> list[Candidate]:
    """Find users and teams of the registry's organization whose names contain `text`.

    Only the registry's own organization is searched, and present members are left out.
    """
    text = text.strip()
    if not text:
        return []
    granted_users = RegistryUserObjectPermission.objects.filter(content_object=registry).values(
        "user_id"
    )
    granted_groups = RegistryGroupObjectPermission.objects.filter(content_object=registry).values(
        "group_id"
    )
    users = (
        get_user_model()
        .objects.filter(
            org_memberships__organization=registry.organization_id,
            username__icontains=text,
            is_active=True,
        )
        .exclude(pk__in=granted_users)
        .select_related("service_account")
        .order_by("username")[:CANDIDATE_LIMIT]
    )
    teams = (
        Team.objects.filter(organization=registry.organization_id, name__icontains=text)
        .exclude(group_id__in=granted_groups)
        .order_by("name")[:CANDIDATE_LIMIT]
    )
    candidates = [
        Candidate(
            USER,
            user.username,
            "service account" if hasattr(user, "service_account") else "user",
        )
        for user in users
    ]
    candidates += [Candidate(TEAM, team.name, "team") for team in teams]
    return candidates


# Activity page ------------------------------------------------------------------------------


def _registry_events(registry: Registry) -> QuerySet:
    # registry_id is a plain id rather than a foreign key, so the organization is matched
    # too. Registry ids are not reused (AUTOINCREMENT on SQLite, a sequence on PostgreSQL),
    # so a new registry of the same name shows none of these events.
    return AuditEvent.objects.filter(
        organization_id=registry.organization_id, registry_id=registry.pk
    )


def activity_context(
    registry: Registry,
    *,
    person: str = "",
    action: str = "",
    after: Key | None = None,
    before: Key | None = None,
) -> dict:
    """Build the activity page: one page of the registry's audit events, newest first."""
    events = _registry_events(registry).select_related("actor")
    if person:
        events = events.filter(actor__username=person)
    if action:
        events = events.filter(action=action)
    page = keyset_page(
        events, fields=("id",), descending=True, size=page_size(), after=after, before=before
    )

    people = list(
        _registry_events(registry)
        .exclude(actor=None)
        .order_by("actor__username")
        .values_list("actor__username", flat=True)
        .distinct()
    )
    actions = list(
        _registry_events(registry).order_by("action").values_list("action", flat=True).distinct()
    )

    base_url = registry_page_url(registry, "registry_activity")
    filters = {"person": person, "action": action}
    next_url = previous_url = None
    if page.next_key:
        next_url = with_query(base_url, {**filters, "after": page.next_key[0]})
    if page.previous_key:
        previous_url = with_query(base_url, {**filters, "before": page.previous_key[0]})
    return {
        "registry": registry,
        "organization": registry.organization,
        "page": page,
        "people": people,
        "actions": actions,
        "person": person,
        "action": action,
        "activity_url": base_url,
        "next_url": next_url,
        "previous_url": previous_url,
    }
