"""The legacy gate decides support staff inside the query, exactly as has_perm decides them."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, Permission
from django.utils import timezone

from apps.legacy.models import LegacyRegistry
from apps.orgs.support import is_support, is_support_expression
from tests.conftest import make_user
from tests.legacy.conftest import migrate


def grant_support(user, grant: str):
    permission = Permission.objects.get(codename="support_console")
    if grant == "directly":
        user.user_permissions.add(permission)
    elif grant == "through a group":
        group = Group.objects.create(name="support-staff")
        group.permissions.add(permission)
        user.groups.add(group)
    elif grant == "as a superuser":
        user.is_superuser = True
        user.save()
    elif grant == "directly but inactive":
        user.user_permissions.add(permission)
        user.is_active = False
        user.save()
    return type(user).objects.get(pk=user.pk)


GRANTS = ["directly", "through a group", "as a superuser", "directly but inactive", "not at all"]


@pytest.mark.parametrize("grant", GRANTS)
def test_support_expression_agrees_with_has_perm(db, grant):
    user = grant_support(make_user("uma"), grant)

    in_sql = (
        type(user)
        .objects.filter(pk=user.pk)
        .annotate(support=is_support_expression(user))
        .values_list("support", flat=True)
        .get()
    )

    assert bool(in_sql) is is_support(user)


@pytest.mark.parametrize(
    ("grant", "sees"),
    [
        ("directly", True),
        ("through a group", True),
        ("as a superuser", True),
        ("not at all", False),
    ],
)
def test_support_sees_other_teams_registry(legacy_registry, grant, sees):
    user = grant_support(make_user("uma"), grant)

    visible = list(LegacyRegistry.objects.visible_to(user))
    of_members = list(LegacyRegistry.objects.of_members(user))

    assert visible == ([legacy_registry] if sees else [])
    assert of_members == ([legacy_registry] if sees else [])


def test_hidden_registry_visible_to_support_only(legacy_versions, member, support, org_admin):
    legacy_registry = legacy_versions[0].model.legacy_registry
    migrate(legacy_registry, actor=org_admin, read_only_since=timezone.now() - timedelta(days=400))

    assert list(LegacyRegistry.objects.visible_to(member)) == []
    assert list(LegacyRegistry.objects.of_members(member)) == [legacy_registry]
    assert list(LegacyRegistry.objects.visible_to(support)) == [legacy_registry]


def test_org_admin_outside_team_sees_nothing(legacy_registry, org_admin):
    assert list(LegacyRegistry.objects.visible_to(org_admin)) == []
    assert list(LegacyRegistry.objects.of_members(org_admin)) == []
