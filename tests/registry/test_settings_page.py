"""Registry settings: who reaches them, and each section edited in place and audited."""

import re

import pytest

from apps.audit.models import AuditEvent
from apps.registry import services
from apps.registry.access import member_rows
from apps.registry.models import (
    ArtifactVersion,
    Registry,
    RegistryGroupObjectPermission,
    RegistryUserObjectPermission,
    Visibility,
)
from apps.registry.roles import Role
from tests.conftest import log_version
from tests.registry.conftest import HTMX, signed_in

SECRET = "/orgs/acme/registries/secret-models/"
SETTINGS = f"{SECRET}settings/"


@pytest.fixture
def admin_client(registry_admin):
    return signed_in(registry_admin)


def first_element(body: str) -> str:
    return re.match(r"\s*(<[^>]+>)", body).group(1)


def status_region(body: str) -> str:
    start = body.index('<div id="status"')
    return body[start : body.index("</div>", start)]


def events(registry: Registry, action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(registry_id=registry.pk, action=action))


# Reaching the page ---------------------------------------------------------------------------


def test_gear_shown_to_admins_only(admin_client, secret_registry, registry_admin, member):
    services.add_member(
        registry=secret_registry, member=member, role=Role.MEMBER, actor=registry_admin
    )

    admin_body = admin_client.get(SECRET).content.decode()
    member_body = signed_in(member).get(SECRET).content.decode()

    assert f'href="{SETTINGS}" aria-label="Settings of secret-models"' in admin_body
    assert SETTINGS not in member_body
    assert "Your role: <strong>Member</strong>" in member_body


def test_settings_page_lists_every_section(admin_client, secret_registry):
    response = admin_client.get(SETTINGS)

    body = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Settings of secret-models</h1>" in body
    for section in (
        "settings-details",
        "settings-members",
        "settings-visibility",
        "settings-types",
        "settings-protected",
        "settings-delete",
    ):
        assert f'<section id="{section}"' in body


def test_settings_403_names_admin_role(secret_registry, registry_admin, member):
    services.add_member(
        registry=secret_registry, member=member, role=Role.MEMBER, actor=registry_admin
    )

    page = signed_in(member).get(SETTINGS)
    fragment = signed_in(member).post(f"{SETTINGS}details/", {"description": "x"}, headers=HTMX)

    assert page.status_code == 403
    assert (
        "Opening the settings in the registry &#x27;secret-models&#x27; needs the Admin role"
        in page.content.decode()
    )
    assert fragment.status_code == 403
    assert "Editing the registry in the registry" in fragment.content.decode()
    assert first_element(fragment.content.decode()).startswith('<div id="status"')


def test_settings_hidden_registry_is_404(member_client, secret_registry):
    hidden = member_client.get(SETTINGS)
    missing = member_client.get("/orgs/acme/registries/no-such-registry/settings/")

    assert hidden.status_code == 404
    assert hidden.content == missing.content


def test_org_admin_reaches_settings_of_any_registry(org_admin, secret_registry):
    response = signed_in(org_admin).get(SETTINGS)

    assert response.status_code == 200
    assert "<h1>Settings of secret-models</h1>" in response.content.decode()


# Name and description ------------------------------------------------------------------------


def test_description_saved_in_place(admin_client, secret_registry):
    response = admin_client.post(
        f"{SETTINGS}details/",
        {"name": "secret-models", "description": "Only **vetted** models."},
        headers=HTMX,
    )

    body = response.content.decode()
    secret_registry.refresh_from_db()
    assert response.status_code == 200
    assert first_element(body).startswith('<section id="settings-details"')
    assert "<p>Only <strong>vetted</strong> models.</p>" in body
    assert "Saved the name and description." in status_region(body)
    assert secret_registry.description == "Only **vetted** models."
    assert events(secret_registry, "registry.updated")[0].data == {"fields": ["description"]}


def test_rename_moves_the_page(admin_client, secret_registry):
    htmx = admin_client.post(
        f"{SETTINGS}details/", {"name": "vetted-models", "description": ""}, headers=HTMX
    )
    plain = admin_client.post(
        "/orgs/acme/registries/vetted-models/settings/details/",
        {"name": "Vetted Models", "description": ""},
    )

    secret_registry.refresh_from_db()
    assert htmx["HX-Redirect"] == "/orgs/acme/registries/vetted-models/settings/"
    assert plain.status_code == 302
    assert plain["Location"] == "/orgs/acme/registries/Vetted%20Models/settings/"
    assert secret_registry.name == "Vetted Models"
    assert len(events(secret_registry, "registry.updated")) == 2


def test_rename_to_bad_name_keeps_input(admin_client, secret_registry):
    response = admin_client.post(
        f"{SETTINGS}details/", {"name": " padded", "description": "kept"}, headers=HTMX
    )

    body = response.content.decode()
    secret_registry.refresh_from_db()
    assert response.status_code == 422
    assert "starts or ends with whitespace" in body
    assert 'value=" padded"' in body
    assert ">kept</textarea>" in body
    assert secret_registry.name == "secret-models"
    assert events(secret_registry, "registry.updated") == []


def test_core_registry_name_is_fixed(org_admin, model_registry):
    client = signed_in(org_admin)
    page = client.get("/orgs/acme/registries/model/settings/").content.decode()

    response = client.post(
        "/orgs/acme/registries/model/settings/details/",
        {"name": "models", "description": ""},
        headers=HTMX,
    )

    assert 'name="name"' not in page.split('id="settings-details"')[1].split("</section>")[0]
    assert "A core registry keeps its name" in page
    assert response.status_code == 422
    assert "cannot be renamed" in response.content.decode()
    model_registry.refresh_from_db()
    assert model_registry.name == "model"


# Accepted types ------------------------------------------------------------------------------


def test_add_accepted_type(admin_client, secret_registry):
    response = admin_client.post(
        f"{SETTINGS}types/", {"add_types": "dataset, evaluation"}, headers=HTMX
    )

    body = response.content.decode()
    secret_registry.refresh_from_db()
    assert response.status_code == 200
    assert secret_registry.accepted_types == ["model", "dataset", "evaluation"]
    assert '<li class="type-label">evaluation</li>' in body
    assert events(secret_registry, "registry.updated")[0].data == {"fields": ["accepted_types"]}


def test_types_form_says_why_none_can_go(admin_client, secret_registry):
    body = admin_client.get(SETTINGS).content.decode()
    section = body.split('<section id="settings-types"')[1].split("</section>")[0]

    assert "Types can be added but not removed" in section
    assert "because collections of that type may depend on it" in section
    assert 'type="checkbox" name="remove' not in section


def test_accept_all_types_is_final(admin_client, secret_registry):
    admin_client.post(f"{SETTINGS}types/", {"accept_all": "on"})

    body = admin_client.get(SETTINGS).content.decode()
    secret_registry.refresh_from_db()
    assert secret_registry.accepts_all_types is True
    assert "This registry accepts <strong>all types</strong>." in body
    assert "cannot be narrowed to a list" in body


def test_types_form_needs_input(admin_client, secret_registry):
    response = admin_client.post(f"{SETTINGS}types/", {"add_types": ""}, headers=HTMX)

    assert response.status_code == 422
    assert "Enter one or more types to add" in response.content.decode()


def test_core_registry_keeps_own_type(org_admin, model_registry):
    client = signed_in(org_admin)

    client.post("/orgs/acme/registries/model/settings/types/", {"add_types": "checkpoint"})
    body = client.get("/orgs/acme/registries/model/settings/").content.decode()

    model_registry.refresh_from_db()
    assert model_registry.accepted_types == ["model", "checkpoint"]
    assert "A core registry always accepts its own type." in body


# Visibility ----------------------------------------------------------------------------------


def test_widening_asks_with_count_first(admin_client, secret_registry, member, viewer, org_admin):
    response = admin_client.post(
        f"{SETTINGS}visibility/", {"visibility": "organization"}, headers=HTMX
    )

    body = response.content.decode()
    secret_registry.refresh_from_db()
    # mike and vera gain access; ada is a member already and olivia has Admin through
    # the organization's admins group.
    assert response.status_code == 200
    assert "gives <strong>2</strong> more people the Viewer role" in body
    assert '<input type="hidden" name="confirmed" value="true">' in body
    assert secret_registry.visibility == Visibility.RESTRICTED
    assert events(secret_registry, "registry.visibility_changed") == []


def test_widening_after_confirmation(admin_client, secret_registry, member):
    response = admin_client.post(
        f"{SETTINGS}visibility/", {"visibility": "organization", "confirmed": "true"}
    )

    secret_registry.refresh_from_db()
    assert response.status_code == 302
    assert secret_registry.visibility == Visibility.ORGANIZATION
    assert signed_in(member).get(SECRET).status_code == 200
    assert events(secret_registry, "registry.visibility_changed")[0].data == {"to": "organization"}


def test_narrowing_needs_no_confirmation(admin_client, secret_registry, registry_admin, member):
    services.set_visibility(
        registry=secret_registry, visibility="organization", confirmed=True, actor=registry_admin
    )

    response = admin_client.post(
        f"{SETTINGS}visibility/", {"visibility": "restricted"}, headers=HTMX
    )

    secret_registry.refresh_from_db()
    assert response.status_code == 200
    assert secret_registry.visibility == Visibility.RESTRICTED
    assert "now has Restricted visibility" in status_region(response.content.decode())
    assert signed_in(member).get(SECRET).status_code == 404


def test_confirmation_without_javascript(admin_client, secret_registry):
    response = admin_client.post(f"{SETTINGS}visibility/", {"visibility": "organization"})

    body = response.content.decode()
    assert response.status_code == 200
    assert body.startswith("<!DOCTYPE html>")
    assert "Confirm: make it visible to the organization" in body


def test_core_visibility_is_fixed(org_admin, model_registry):
    client = signed_in(org_admin)
    body = client.get("/orgs/acme/registries/model/settings/").content.decode()

    response = client.post(
        "/orgs/acme/registries/model/settings/visibility/",
        {"visibility": "restricted"},
        headers=HTMX,
    )

    assert "A core registry always has Organization visibility." in body
    assert response.status_code == 422
    assert "always has Organization visibility" in response.content.decode()


# Protected aliases ---------------------------------------------------------------------------


def test_protect_and_unprotect_alias(admin_client, secret_registry):
    added = admin_client.post(f"{SETTINGS}protected-aliases/", {"name": "production"}, headers=HTMX)
    removed = admin_client.post(
        f"{SETTINGS}protected-aliases/remove/", {"name": "production"}, headers=HTMX
    )

    assert re.search(r'<li class="alias">\s*production', added.content.decode())
    assert "The alias “production” is now protected." in added.content.decode()
    assert "No alias is protected." in removed.content.decode()
    assert len(events(secret_registry, "protected_alias.added")) == 1
    assert len(events(secret_registry, "protected_alias.removed")) == 1


def test_protect_reserved_alias_rejected(admin_client, secret_registry):
    response = admin_client.post(f"{SETTINGS}protected-aliases/", {"name": "latest"}, headers=HTMX)

    assert response.status_code == 422
    assert 'aria-describedby="settings-protected-errors"' in response.content.decode()
    assert secret_registry.protected_aliases.count() == 0


# Deleting ------------------------------------------------------------------------------------


def test_delete_needs_exact_name(admin_client, secret_registry):
    response = admin_client.post(
        f"{SETTINGS}delete/", {"confirm_name": "Secret-Models"}, headers=HTMX
    )

    assert response.status_code == 422
    assert "Type the registry&#x27;s name exactly" in response.content.decode()
    assert Registry.objects.filter(pk=secret_registry.pk).exists()


def test_delete_keeps_source_versions(
    admin_client, secret_registry, registry_admin, project, member
):
    collection = services.create_collection(
        registry=secret_registry, name="plans", type="model", actor=registry_admin
    )
    version = log_version(project, member, name="plans")
    services.link_version(collection=collection, version=version, actor=registry_admin)
    registry_id = secret_registry.pk

    response = admin_client.post(f"{SETTINGS}delete/", {"confirm_name": "secret-models"})
    home = admin_client.get(response["Location"]).content.decode()

    assert response["Location"] == "/"
    assert "Deleted the registry “secret-models”. The source artifact versions stay" in home
    assert not Registry.objects.filter(pk=registry_id).exists()
    assert ArtifactVersion.objects.filter(pk=version.pk).exists()
    assert not RegistryUserObjectPermission.objects.filter(content_object_id=registry_id).exists()
    assert not RegistryGroupObjectPermission.objects.filter(content_object_id=registry_id).exists()


def test_core_registry_cannot_be_deleted(org_admin, model_registry):
    client = signed_in(org_admin)
    body = client.get("/orgs/acme/registries/model/settings/").content.decode()

    response = client.post(
        "/orgs/acme/registries/model/settings/delete/", {"confirm_name": "model"}, headers=HTMX
    )

    assert "A core registry cannot be deleted." in body
    assert response.status_code == 422
    assert "The core registry &#x27;model&#x27; cannot be deleted." in response.content.decode()
    assert Registry.objects.filter(pk=model_registry.pk).exists()


def test_write_pause_answers_423(admin_client, secret_registry):
    Registry.objects.filter(pk=secret_registry.pk).update(
        write_paused_since="2030-01-01T00:00:00Z", write_pause_reason="migration"
    )

    response = admin_client.post(
        f"{SETTINGS}details/", {"name": "secret-models", "description": "x"}, headers=HTMX
    )

    assert response.status_code == 423
    assert "Retry-After" in response
    assert "paused for writes: migration" in response.content.decode()
    assert member_rows(secret_registry)[0].name == "ada"


# Reloading a form's address ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "page"),
    [
        ("settings/details/", SETTINGS),
        ("settings/types/", SETTINGS),
        ("settings/visibility/", SETTINGS),
        ("settings/protected-aliases/", SETTINGS),
        ("settings/protected-aliases/remove/", SETTINGS),
        ("settings/members/", SETTINGS),
        ("settings/members/role/", SETTINGS),
        ("settings/members/remove/", SETTINGS),
        ("settings/members/owner/", SETTINGS),
        ("settings/delete/", SETTINGS),
        ("star/", SECRET),
        ("leave/", SECRET),
    ],
)
def test_get_on_form_address_redirects_to_form(admin_client, secret_registry, path, page):
    response = admin_client.get(f"{SECRET}{path}", follow=True)

    assert response.redirect_chain == [(page, 302)]
    assert response.status_code == 200
    assert secret_registry.name in response.content.decode()


def test_reload_after_rejected_delete_shows_settings(admin_client, secret_registry):
    rejected = admin_client.post(f"{SETTINGS}delete/", {"confirm_name": "wrong"})
    reloaded = admin_client.get(f"{SETTINGS}delete/", follow=True)

    assert rejected.status_code == 200
    assert reloaded.redirect_chain == [(SETTINGS, 302)]
    assert "Delete the registry" in reloaded.content.decode()
    assert Registry.objects.filter(pk=secret_registry.pk).exists()


def test_get_on_hidden_registry_form_is_404(member_client, secret_registry):
    response = member_client.get(f"{SETTINGS}delete/", follow=True)

    assert response.status_code == 404


def test_form_address_rejects_other_methods(admin_client, secret_registry):
    response = admin_client.put(f"{SETTINGS}details/")

    assert response.status_code == 405
    assert response["Allow"] == "POST"
