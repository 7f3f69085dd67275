"""A registry someone may not see does not exist for them, before and after access changes.

Hidden and missing objects get responses with the same bytes. Lists, counts, search and the
member autocomplete never mention a hidden registry. Leaving a team takes away what the team
gave on the very next request, and a deleted registry leaves nothing a new one could inherit.
"""

import pytest

from apps.orgs import services as org_services
from apps.registry import services
from apps.registry.access import member_rows
from apps.registry.models import (
    ProtectedAlias,
    Registry,
    RegistryGroupObjectPermission,
    RegistryUserObjectPermission,
    Star,
)
from apps.registry.roles import Role
from tests.conftest import log_version, make_user
from tests.registry.conftest import HTMX, signed_in

SECRET = "/orgs/acme/registries/secret-models/"
MISSING = "/orgs/acme/registries/no-such-registry/"
COLLECTION = "collections/plans/"
VERSION = f"{COLLECTION}versions/v0/"

# Every page and fragment under a registry, as (method, path, data).
REQUESTS = [
    ("get", "", None),
    ("get", "members/", None),
    ("get", "settings/", None),
    ("get", "settings/members/candidates/?name=m", None),
    ("get", "activity/", None),
    ("get", COLLECTION, None),
    ("get", VERSION, None),
    ("get", f"{VERSION}files/1/", None),
    ("post", "star/", {"starred": "true"}),
    ("post", "leave/", {}),
    ("post", "new-collection/", {"name": "x", "type": "model"}),
    ("post", "settings/details/", {"description": "x"}),
    ("post", "settings/types/", {"add_types": "x"}),
    ("post", "settings/visibility/", {"visibility": "organization"}),
    ("post", "settings/protected-aliases/", {"name": "x"}),
    ("post", "settings/protected-aliases/remove/", {"name": "x"}),
    ("post", "settings/members/", {"kind": "user", "name": "mike"}),
    ("post", "settings/members/role/", {"kind": "user", "name": "ada", "role": "viewer"}),
    ("post", "settings/members/remove/", {"kind": "user", "name": "ada"}),
    ("post", "settings/members/owner/", {"kind": "user", "name": "mike"}),
    ("post", "settings/delete/", {"confirm_name": "secret-models"}),
    ("post", f"{COLLECTION}delete/", {"confirm_name": "plans"}),
    ("post", f"{VERSION}unlink/", {}),
]


@pytest.fixture
def plans(secret_registry, registry_admin, project, member):
    """The collection `plans` in secret-models, with v0 carrying the alias `go-live`."""
    collection = services.create_collection(
        registry=secret_registry, name="plans", type="model", actor=registry_admin
    )
    version = log_version(project, member, name="plans")
    services.link_version(
        collection=collection, version=version, aliases=["go-live"], actor=registry_admin
    )
    return collection


def send(client, method: str, url: str, data, htmx: bool):
    headers = HTMX if htmx else {}
    if method == "get":
        return client.get(url, headers=headers)
    return client.post(url, data, headers=headers)


# Hidden responds like missing -----------------------------------------------------------------


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
@pytest.mark.parametrize(("method", "path", "data"), REQUESTS)
def test_hidden_responds_like_missing(member, plans, method, path, data, htmx):
    client = signed_in(member)

    hidden = send(client, method, SECRET + path, data, htmx)
    missing = send(client, method, MISSING + path, data, htmx)

    assert hidden.status_code == 404
    assert hidden.content == missing.content
    assert "secret-models" not in hidden.content.decode()
    assert "plans" not in hidden.content.decode()
    assert Registry.objects.filter(name="secret-models").exists()


def test_hidden_collection_and_version_like_missing(plans, registry_admin, member):
    services.add_member(registry=plans.registry, member=member, actor=registry_admin)
    client = signed_in(member)

    collection = client.get(f"{SECRET}collections/no-such/")
    version = client.get(f"{SECRET}{COLLECTION}versions/v9/")
    registry = client.get(MISSING)

    assert collection.status_code == version.status_code == 404
    assert collection.content == version.content == registry.content


def test_hidden_path_like_deleted(plans, registry_admin, member):
    client = signed_in(member)
    path = "/path/acme/wandb-registry-secret-models/plans:go-live"

    hidden = client.get(path)
    services.delete_registry(
        registry=plans.registry, confirm_name="secret-models", actor=registry_admin
    )
    missing = client.get(path)

    assert hidden.status_code == 404
    assert hidden.content == missing.content


# Lists, counts, search and autocomplete ------------------------------------------------------


def test_home_counts_and_search_skip_hidden(member, plans, registry_admin):
    client = signed_in(member)

    home = client.get("/").content.decode()
    search = client.get("/", {"q": "go-live"}).content.decode()
    search_fragment = client.get("/", {"q": "plans"}, headers=HTMX).content.decode()
    search_registry = client.get("/", {"q": "secret"}).content.decode()
    admin_search = signed_in(registry_admin).get("/", {"q": "go-live"}).content.decode()

    assert "secret-models" not in home
    assert "secret-models" not in search
    assert '<span class="alias">go-live</span>' not in search
    assert "Nothing you can see matches “plans”." in search_fragment
    assert "/collections/plans/" not in search_fragment
    assert "Nothing you can see matches “secret”." in search_registry
    assert '<span class="alias">go-live</span>' in admin_search


def test_autocomplete_lists_people_not_registries(registry_admin, plans, org):
    other = services.create_registry(
        organization=org, name="other-secret", accepted_types=["model"], actor=registry_admin
    )
    client = signed_in(registry_admin)

    body = client.get(
        f"{SECRET}settings/members/candidates/", {"name": "secret"}, headers=HTMX
    ).content.decode()

    assert other.name not in body
    assert "No user or team of acme that is not yet a member matches “secret”." in body


def test_activity_names_only_this_registry(registry_admin, plans, org):
    services.create_registry(
        organization=org, name="other-secret", accepted_types=["model"], actor=registry_admin
    )

    body = signed_in(registry_admin).get(f"{SECRET}activity/").content.decode()

    assert "other-secret" not in body
    assert "plans" in body


# Team membership ends access at once ---------------------------------------------------------


def test_leaving_team_ends_team_access_next_request(plans, registry_admin, member, team):
    services.add_member(
        registry=plans.registry, member=team, role=Role.MEMBER, actor=registry_admin
    )
    client = signed_in(member)
    before = [
        client.get(SECRET).status_code,
        client.get(f"{SECRET}{COLLECTION}", headers=HTMX).status_code,
        client.get("/path/acme/wandb-registry-secret-models/plans:go-live").status_code,
        client.post(f"{SECRET}{COLLECTION}tags/", {"name": "q3"}, headers=HTMX).status_code,
    ]
    listed_before = "secret-models" in client.get("/").content.decode()

    org_services.remove_team_member(team=team, user=member)

    after = [
        client.get(SECRET).status_code,
        client.get(f"{SECRET}{COLLECTION}", headers=HTMX).status_code,
        client.get("/path/acme/wandb-registry-secret-models/plans:go-live").status_code,
        client.post(f"{SECRET}{COLLECTION}tags/", {"name": "q4"}, headers=HTMX).status_code,
    ]
    assert before == [200, 200, 302, 200]
    assert listed_before
    assert after == [404, 404, 404, 404]
    assert "secret-models" not in client.get("/").content.decode()
    assert "secret-models" not in client.get("/", {"q": "plans"}).content.decode()
    assert list(plans.tags.values_list("name", flat=True)) == ["q3"]


def test_leaving_team_keeps_direct_grant(plans, registry_admin, member, team):
    services.add_member(
        registry=plans.registry, member=team, role=Role.MEMBER, actor=registry_admin
    )
    services.add_member(registry=plans.registry, member=member, actor=registry_admin)
    client = signed_in(member)
    before = client.get(SECRET).content.decode()

    org_services.remove_team_member(team=team, user=member)

    after = client.get(SECRET).content.decode()
    assert "Your role: <strong>Member</strong>" in before
    assert "Your role: <strong>Restricted Viewer</strong>" in after


# Deleting leaves nothing behind --------------------------------------------------------------


def test_deleted_registry_leaves_no_rows(plans, registry_admin, member, team, org):
    registry = plans.registry
    services.add_member(registry=registry, member=member, actor=registry_admin)
    services.add_member(registry=registry, member=team, actor=registry_admin)
    services.add_protected_alias(registry=registry, name="go-live", actor=registry_admin)
    services.star_registry(registry=registry, user=member)
    registry_id = registry.pk

    signed_in(registry_admin).post(f"{SECRET}settings/delete/", {"confirm_name": "secret-models"})

    assert not Registry.objects.filter(pk=registry_id).exists()
    assert not RegistryUserObjectPermission.objects.filter(content_object_id=registry_id).exists()
    assert not RegistryGroupObjectPermission.objects.filter(content_object_id=registry_id).exists()
    assert not ProtectedAlias.objects.filter(registry_id=registry_id).exists()
    assert not Star.objects.filter(registry_id=registry_id).exists()


def test_new_registry_of_same_name_inherits_nothing(plans, registry_admin, member, team, org):
    old = plans.registry
    services.add_member(registry=old, member=member, role=Role.ADMIN, actor=registry_admin)
    services.add_member(registry=old, member=team, actor=registry_admin)
    services.delete_registry(registry=old, confirm_name="secret-models", actor=registry_admin)
    newcomer = org_services.add_org_member(organization=org, user=make_user("nina")).user

    new = services.create_registry(
        organization=org, name="Secret-Models", accepted_types=["model"], actor=newcomer
    )

    client = signed_in(member)
    assert [row.name for row in member_rows(new)] == ["nina"]
    assert client.get(SECRET).status_code == 404
    assert signed_in(registry_admin).get(SECRET).status_code == 404
    activity = signed_in(newcomer).get(f"{SECRET}activity/").content.decode()
    assert "registry.created" in activity
    assert "member.added" not in activity
    assert "plans" not in activity
