"""Creating a custom registry from the home page, and starring registries there."""

import re

from apps.audit.models import AuditEvent
from apps.registry import services
from apps.registry.access import member_rows
from apps.registry.models import Registry, Star, Visibility
from apps.registry.roles import Role
from tests.registry.conftest import HTMX, signed_in

CREATE_URL = "/orgs/acme/create-registry/"
VALID = {
    "name": "Fraud Models",
    "description": "Models the **fraud** team ships.",
    "visibility": "restricted",
    "types_mode": "listed",
    "accepted_types": "model, dataset",
}


def registry_names(body: str) -> list[str]:
    return re.findall(
        r'<th scope="row">\s*<a href="/orgs/acme/registries/[^"]+/">([^<]+)</a>', body
    )


# The button and the form ---------------------------------------------------------------------


def test_home_shows_create_button_to_members(member_client, org_admin):
    member_body = member_client.get("/").content.decode()
    admin_body = signed_in(org_admin).get("/").content.decode()

    assert f'href="{CREATE_URL}">Create registry</a>' in member_body
    assert f'href="{CREATE_URL}">Create registry</a>' in admin_body


def test_home_hides_create_button_from_viewer(viewer_client):
    body = viewer_client.get("/").content.decode()

    assert "Create registry" not in body
    assert CREATE_URL not in body


def test_create_form_refused_to_org_viewer(viewer_client):
    page = viewer_client.get(CREATE_URL)
    post = viewer_client.post(CREATE_URL, VALID)

    assert page.status_code == 403
    assert "org viewers cannot create registries" in page.content.decode()
    assert post.status_code == 403
    assert not Registry.objects.filter(name="Fraud Models").exists()


def test_create_form_of_other_org_is_404(outsider_client, org):
    response = outsider_client.get(CREATE_URL)

    assert response.status_code == 404
    assert "<h1>Not found</h1>" in response.content.decode()


def test_create_form_lists_its_fields(member_client):
    body = member_client.get(CREATE_URL).content.decode()

    assert '<label for="registry-name">Name</label>' in body
    assert '<label for="registry-description">Description (Markdown)</label>' in body
    assert '<input type="radio" name="visibility" value="restricted" checked>' in body
    assert '<input type="radio" name="visibility" value="organization">' in body
    assert '<input type="radio" name="types_mode" value="all" checked>' in body
    assert '<input type="radio" name="types_mode" value="listed">' in body


# Creating ------------------------------------------------------------------------------------


def test_creator_lands_on_registry_as_admin(member_client, member):
    response = member_client.post(CREATE_URL, VALID, follow=True)

    body = response.content.decode()
    registry = Registry.objects.get(name="Fraud Models")
    assert response.redirect_chain[0][0] == "/orgs/acme/registries/Fraud%20Models/"
    assert "<h1>Fraud Models</h1>" in body
    assert "Your role: <strong>Admin</strong>" in body
    assert "Created the registry “Fraud Models”. You are its Admin." in body
    assert registry.accepted_types == ["model", "dataset"]
    assert registry.visibility == Visibility.RESTRICTED
    assert registry.owner == member
    rows = {row.name: row for row in member_rows(registry)}
    assert rows["mike"].granted == Role.ADMIN
    assert AuditEvent.objects.filter(action="registry.created", registry_id=registry.pk).exists()


def test_create_with_all_types_and_org_visibility(member_client):
    member_client.post(
        CREATE_URL,
        {**VALID, "types_mode": "all", "accepted_types": "", "visibility": "organization"},
    )

    registry = Registry.objects.get(name="Fraud Models")
    assert registry.accepts_all_types is True
    assert registry.accepted_types == []
    assert registry.visibility == Visibility.ORGANIZATION


def test_create_htmx_redirects_with_header(member_client):
    response = member_client.post(CREATE_URL, VALID, headers=HTMX)

    assert response.status_code == 200
    assert response["HX-Redirect"] == "/orgs/acme/registries/Fraud%20Models/"


def test_create_rejects_bad_name_with_rule(member_client):
    response = member_client.post(CREATE_URL, {**VALID, "name": "fraud/models"})

    body = response.content.decode()
    assert response.status_code == 200
    assert "contains &#x27;/&#x27;, which is not allowed" in body
    assert 'value="fraud/models"' in body
    assert not Registry.objects.filter(name="fraud/models").exists()


def test_create_rejects_taken_name_any_case(member_client, org, org_admin):
    services.create_registry(
        organization=org, name="fraud models", accepted_types=["model"], actor=org_admin
    )

    response = member_client.post(CREATE_URL, VALID, headers=HTMX)

    assert response.status_code == 422
    assert "A registry named &#x27;Fraud Models&#x27; already exists" in (response.content.decode())
    assert Registry.objects.filter(name__iexact="fraud models").count() == 1


def test_create_with_defaults_accepts_all_types(member_client):
    response = member_client.post(
        CREATE_URL,
        {"name": "Team Space", "description": "", "visibility": "restricted", "types_mode": "all"},
    )

    registry = Registry.objects.get(name="Team Space")
    assert response.status_code == 302
    assert registry.accepts_all_types is True
    assert registry.accepted_types == []


def test_create_listed_without_types_names_fix(member_client):
    response = member_client.post(CREATE_URL, {**VALID, "accepted_types": " , "})

    body = response.content.decode()
    assert response.status_code == 200
    assert (
        "“Only these types” needs at least one type. Enter types separated by commas, "
        "such as model, dataset, or choose “All types”."
    ) in body
    assert 'id="registry-types-errors"' in body
    assert '<input type="radio" name="types_mode" value="listed" checked>' in body
    assert not Registry.objects.filter(name="Fraud Models").exists()


def test_create_all_types_with_list_is_rejected(member_client):
    response = member_client.post(CREATE_URL, {**VALID, "types_mode": "all"})

    body = response.content.decode()
    assert response.status_code == 200
    assert (
        "“All types” is chosen, so the listed types (model, dataset) would be ignored. "
        "Choose “Only these types” to accept just those, or clear the list."
    ) in body
    assert 'value="model, dataset"' in body
    assert not Registry.objects.filter(name="Fraud Models").exists()


def test_create_without_types_choice_says_so(member_client):
    data = {key: value for key, value in VALID.items() if key != "types_mode"}

    response = member_client.post(CREATE_URL, data)

    body = response.content.decode()
    assert "Choose “All types” or “Only these types” for the accepted types." in body
    assert 'id="registry-types-mode-errors"' in body
    assert not Registry.objects.filter(name="Fraud Models").exists()


def test_create_rejects_core_registry_name(member_client):
    response = member_client.post(CREATE_URL, {**VALID, "name": "MODEL"})

    assert "A registry named &#x27;MODEL&#x27; already exists" in response.content.decode()


# Stars ---------------------------------------------------------------------------------------


def test_star_in_place_with_htmx(member_client, member, model_registry):
    response = member_client.post(
        "/orgs/acme/registries/model/star/", {"starred": "true"}, headers=HTMX
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith(f'<form id="star-{model_registry.pk}"')
    assert "Unstar the registry model" in body
    assert '<input type="hidden" name="starred" value="false">' in body
    assert Star.objects.filter(user=member, registry=model_registry).exists()


def test_unstar_without_javascript_redirects(member_client, member, model_registry):
    services.star_registry(registry=model_registry, user=member)

    response = member_client.post(
        "/orgs/acme/registries/model/star/", {"starred": "false", "next": "/"}
    )

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert not Star.objects.filter(user=member, registry=model_registry).exists()


def test_star_ignores_foreign_next(member_client):
    response = member_client.post(
        "/orgs/acme/registries/model/star/", {"starred": "true", "next": "https://evil.test/"}
    )

    assert response["Location"] == "/orgs/acme/registries/model/"


def test_star_hidden_registry_is_404(member_client, member, secret_registry):
    response = member_client.post("/orgs/acme/registries/secret-models/star/", {"starred": "true"})

    assert response.status_code == 404
    assert not Star.objects.filter(user=member).exists()


def test_star_is_not_audited(member_client):
    before = AuditEvent.objects.count()

    member_client.post("/orgs/acme/registries/model/star/", {"starred": "true"})

    assert AuditEvent.objects.count() == before


def test_home_order_core_starred_then_recent(member_client, member, org_admin, make_registries):
    first, second, third = make_registries(3)
    services.update_registry(registry=first, description="Touched last.", actor=org_admin)
    member_client.post(f"/orgs/acme/registries/{third.name}/star/", {"starred": "true"})

    names = registry_names(member_client.get("/").content.decode())

    assert set(names[:2]) == {"model", "dataset"}
    assert names[2:] == [third.name, first.name, second.name]


def test_home_row_has_star_button(member_client, model_registry):
    body = member_client.get("/").content.decode()

    assert f'<form id="star-{model_registry.pk}"' in body
    assert 'aria-label="Star the registry model"' in body
    assert '<input type="hidden" name="next" value="/">' in body
