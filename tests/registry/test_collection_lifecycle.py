"""Creating and deleting collections, and unlinking versions, from the registry pages."""

import pytest

from apps.audit.models import AuditEvent
from apps.orgs import services as org_services
from apps.registry import services
from apps.registry.models import ArtifactVersion, Collection, CollectionLink
from apps.registry.roles import Role
from tests.conftest import make_user
from tests.registry.conftest import COLLECTION_URL, HTMX, REGISTRY_URL, signed_in, version_url

NEW_COLLECTION = f"{REGISTRY_URL}new-collection/"


# Creating ------------------------------------------------------------------------------------


def test_members_see_create_form_with_accepted_types(member_client, model_registry):
    body = member_client.get(REGISTRY_URL).content.decode()

    assert '<section id="collection-create"' in body
    assert '<select name="type" id="collection-create-type" required>' in body
    assert '<option value="model">model</option>' in body


def test_viewers_see_no_create_form(viewer_client, model_registry):
    body = viewer_client.get(REGISTRY_URL).content.decode()

    assert "collection-create" not in body
    assert "Your role: <strong>Viewer</strong>" in body


def test_create_collection_lands_on_it(member_client, model_registry, member):
    response = member_client.post(
        NEW_COLLECTION, {"name": "Churn", "type": "model", "description": "Predicts *churn*."}
    )
    page = member_client.get(response["Location"]).content.decode()

    collection = Collection.objects.get(name="Churn")
    assert response.status_code == 302
    assert response["Location"] == f"{REGISTRY_URL}collections/Churn/"
    assert "<h1>Churn</h1>" in page
    assert "Created the collection “Churn”." in page
    assert collection.type == "model"
    assert collection.created_by == member
    assert AuditEvent.objects.filter(action="collection.created", target="Churn").exists()


def test_create_collection_htmx_redirects(member_client, model_registry):
    response = member_client.post(NEW_COLLECTION, {"name": "Churn", "type": "model"}, headers=HTMX)

    assert response.status_code == 200
    assert response["HX-Redirect"] == f"{REGISTRY_URL}collections/Churn/"


def test_create_collection_type_not_accepted(member_client, model_registry):
    response = member_client.post(
        NEW_COLLECTION, {"name": "Churn", "type": "dataset"}, headers=HTMX
    )

    body = response.content.decode()
    assert response.status_code == 422
    assert body.lstrip().startswith('<section id="collection-create"')
    assert "does not accept the type &#x27;dataset&#x27;; it accepts: model." in body
    assert 'value="Churn"' in body
    assert not Collection.objects.filter(name="Churn").exists()


def test_create_collection_duplicate_without_javascript(member_client, collection):
    response = member_client.post(NEW_COLLECTION, {"name": "FRAUD-DETECTOR", "type": "model"})

    body = response.content.decode()
    assert response.status_code == 200
    assert body.startswith("<!DOCTYPE html>")
    assert "A collection named &#x27;FRAUD-DETECTOR&#x27; already exists" in body
    assert '<details class="edit-details" open>' in body


def test_create_collection_needs_member_role(viewer_client, model_registry):
    response = viewer_client.post(NEW_COLLECTION, {"name": "", "type": "model"}, headers=HTMX)

    assert response.status_code == 403
    assert "Creating a collection in the registry &#x27;model&#x27; needs the Member role" in (
        response.content.decode()
    )


def test_all_types_registry_takes_any_type(org, org_admin):
    services.create_registry(
        organization=org, name="anything", accepted_types=None, actor=org_admin
    )
    client = signed_in(org_admin)
    page = client.get("/orgs/acme/registries/anything/").content.decode()

    client.post("/orgs/acme/registries/anything/new-collection/", {"name": "evals", "type": "eval"})

    assert '<input type="text" name="type" id="collection-create-type"' in page
    assert Collection.objects.get(name="evals").type == "eval"


# Deleting ------------------------------------------------------------------------------------


def test_delete_collection_keeps_sources(member_client, linked):
    version_ids = [link.version_id for link in linked]

    response = member_client.post(f"{COLLECTION_URL}delete/", {"confirm_name": "fraud-detector"})
    page = member_client.get(response["Location"]).content.decode()

    assert response["Location"] == REGISTRY_URL
    assert "Deleted the collection “fraud-detector”. Its source versions stay" in page
    assert not Collection.objects.filter(name="fraud-detector").exists()
    assert ArtifactVersion.objects.filter(pk__in=version_ids).count() == 3
    assert AuditEvent.objects.filter(action="collection.deleted").count() == 1


def test_delete_collection_needs_exact_name(member_client, linked):
    response = member_client.post(
        f"{COLLECTION_URL}delete/", {"confirm_name": "Fraud-Detector"}, headers=HTMX
    )

    body = response.content.decode()
    assert response.status_code == 422
    assert body.lstrip().startswith('<section id="collection-delete"')
    assert "Type the collection&#x27;s name exactly (&#x27;fraud-detector&#x27;)" in body
    assert Collection.objects.filter(name="fraud-detector").exists()


def test_delete_collection_with_protected_alias_needs_admin(
    member_client, linked, org_admin, model_registry
):
    services.add_protected_alias(registry=model_registry, name="champion", actor=org_admin)

    refused = member_client.post(
        f"{COLLECTION_URL}delete/", {"confirm_name": "fraud-detector"}, headers=HTMX
    )
    allowed = signed_in(org_admin).post(
        f"{COLLECTION_URL}delete/", {"confirm_name": "fraud-detector"}
    )

    assert refused.status_code == 403
    assert "(protected alias champion)" in refused.content.decode()
    assert "needs the Admin role" in refused.content.decode()
    assert allowed.status_code == 302
    assert not Collection.objects.filter(name="fraud-detector").exists()


def test_viewer_sees_no_delete_form(viewer_client, linked):
    body = viewer_client.get(COLLECTION_URL).content.decode()

    assert "collection-delete" not in body


# Unlinking -----------------------------------------------------------------------------------


def test_unlink_version_from_its_page(member_client, linked):
    page = member_client.get(version_url(0)).content.decode()

    response = member_client.post(f"{version_url(0)}unlink/")
    collection_page = member_client.get(response["Location"]).content.decode()

    assert '<section id="version-unlink"' in page
    assert response["Location"] == COLLECTION_URL
    assert "Unlinked v0 from “fraud-detector”." in collection_page
    assert not CollectionLink.objects.filter(index=0).exists()
    assert ArtifactVersion.objects.filter(pk=linked[0].version_id).exists()


def test_unlink_protected_alias_needs_admin(member_client, linked, org_admin, model_registry):
    services.add_protected_alias(registry=model_registry, name="champion", actor=org_admin)

    response = member_client.post(f"{version_url(1)}unlink/", headers=HTMX)

    assert response.status_code == 403
    assert "Unlinking a version (protected alias champion)" in response.content.decode()
    assert CollectionLink.objects.filter(index=1).exists()


def test_unlink_needs_member_role(viewer_client, linked):
    response = viewer_client.post(f"{version_url(0)}unlink/")

    assert response.status_code == 403
    assert "Unlinking a version in the registry &#x27;model&#x27; needs the Member role" in (
        response.content.decode()
    )
    assert CollectionLink.objects.filter(index=0).exists()


@pytest.mark.parametrize("role", [Role.MEMBER, Role.ADMIN])
def test_unlink_form_shown_to_writers(org, org_admin, linked, model_registry, role):
    user = make_user("wes")
    org_services.add_org_member(organization=org, user=user)
    services.add_member(registry=model_registry, member=user, role=role, actor=org_admin)

    body = signed_in(user).get(version_url(0)).content.decode()

    assert "Unlink v0</button>" in body
    # The button sits inside a disclosure, the confirmation step that needs no JavaScript.
    section = body[body.index('id="version-unlink"') :]
    assert "<details" in section[: section.index("Unlink v0</button>")]
