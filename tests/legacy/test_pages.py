"""The legacy Model Registry pages: gate, content, in-place edits and query counts."""

import pytest

from apps.legacy import services
from apps.legacy.models import LegacyAlias, RegisteredModel
from tests.aria import missing_described_by_ids
from tests.conftest import log_version
from tests.legacy.conftest import migrate, pause

LIST = "/orgs/acme/teams/fraud-team/model-registry/"
MODEL = f"{LIST}fraud-detector/"
VERSION = f"{MODEL}versions/v1/"
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def signed_in(client):
    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in


def body(response) -> str:
    return response.content.decode()


# The gate ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [LIST, MODEL, VERSION])
def test_team_member_reads_pages(signed_in, legacy_versions, member, url):
    response = signed_in(member).get(url)

    assert response.status_code == 200
    assert "fraud-detector" in body(response)
    assert "fraud-team Model Registry" in body(response)


@pytest.mark.parametrize("who", ["stranger", "org_admin", "viewer", "outsider"])
@pytest.mark.parametrize("url", [LIST, MODEL, VERSION])
def test_outside_team_gets_404_like_missing(signed_in, legacy_versions, request, who, url):
    client = signed_in(request.getfixturevalue(who))

    hidden = client.get(url)
    missing = client.get(url.replace("fraud-team", "no-such-team"))

    assert hidden.status_code == 404
    assert hidden.content == missing.content
    assert "fraud-detector" not in body(hidden)


def test_missing_model_and_version_are_404(signed_in, legacy_versions, member):
    client = signed_in(member)

    assert client.get(f"{LIST}churn/").status_code == 404
    assert client.get(f"{MODEL}versions/v9/").status_code == 404


def test_anonymous_is_asked_to_sign_in(client, legacy_versions):
    response = client.get(LIST)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_support_reads_without_edit_controls(signed_in, legacy_versions, support):
    client = signed_in(support)

    for url in (LIST, MODEL, VERSION):
        response = client.get(url)
        assert response.status_code == 200
        assert "fraud-detector" in body(response)
        assert '<form method="post" action="/orgs/acme/teams' not in body(response)


def test_support_cannot_write(signed_in, legacy_versions, support):
    response = signed_in(support).post(f"{VERSION}aliases/", {"name": "staging"})

    assert response.status_code == 403
    assert "needs the team&#x27;s member or admin role" in body(response)
    assert not LegacyAlias.objects.filter(name="staging").exists()


def test_team_viewer_sees_no_edit_controls(signed_in, legacy_versions, team_viewer):
    html = body(signed_in(team_viewer).get(VERSION))

    assert "champion" in html
    assert "Set or move an alias" not in html
    assert "Edit the description" not in html


def test_team_viewer_write_is_403(signed_in, legacy_versions, team_viewer):
    response = signed_in(team_viewer).post(f"{VERSION}aliases/", {"name": "staging"}, **HTMX)

    assert response.status_code == 403
    assert "needs the team&#x27;s member or admin role" in body(response)


# Content ----------------------------------------------------------------------------------------


def test_list_shows_models_with_counts_and_tags(signed_in, legacy_versions, member):
    services.add_tag(target=legacy_versions[0].model, name="cards", actor=member)

    html = body(signed_in(member).get(LIST))

    assert f'<a href="{MODEL}">fraud-detector</a>' in html
    assert '<td class="numeric">3</td>' in html
    assert '<span class="tag">cards</span>' in html
    assert "New registered model" in html
    assert "fraud-team/model-registry/NAME:VERSION" in html


def test_list_filters_by_text_and_tag(signed_in, registered_model, legacy_registry, member):
    services.create_registered_model(legacy_registry=legacy_registry, name="churn", actor=member)
    services.add_tag(target=registered_model, name="cards", actor=member)
    client = signed_in(member)

    by_text = body(client.get(LIST, {"q": "chu"}, **HTMX))
    by_tag = body(client.get(LIST, {"tag": "CARDS"}))

    assert ">churn</a>" in by_text
    assert ">fraud-detector</a>" not in by_text
    assert by_text.lstrip().startswith('<section id="model-list"')
    assert ">fraud-detector</a>" in by_tag
    assert ">churn</a>" not in by_tag


def test_empty_list_says_none_yet(signed_in, legacy_registry, member, team_viewer):
    as_member = body(signed_in(member).get(LIST))
    as_viewer = body(signed_in(team_viewer).get(LIST))

    assert "No registered model yet. Create one with the New registered model form." in as_member
    assert "matches these filters" not in as_member
    assert "No registered model yet.</p>" in as_viewer


def test_empty_filtered_list_names_filters(signed_in, registered_model, member):
    html = body(signed_in(member).get(LIST, {"q": "no-such-model"}, **HTMX))

    assert "No registered model matches these filters." in html
    assert "yet." not in html


def test_list_pages_by_keyset(signed_in, legacy_registry, member, settings):
    settings.REGISTRY_PAGE_SIZE = 2
    for name in ("a-model", "b-model", "c-model"):
        services.create_registered_model(legacy_registry=legacy_registry, name=name, actor=member)
    client = signed_in(member)

    first = body(client.get(LIST))
    second = body(client.get(LIST, {"after": "b-model", "after_id": 2}))

    assert ">a-model</a>" in first
    assert ">b-model</a>" in first
    assert ">c-model</a>" not in first
    assert "after=b-model" in first
    assert ">c-model</a>" in second
    assert ">a-model</a>" not in second


def test_model_page_shows_versions_and_history(signed_in, legacy_versions, member):
    html = body(signed_in(member).get(MODEL))

    assert "Card <strong>fraud</strong> classifier." in html
    assert f'<a href="{MODEL}versions/v2/">v2</a>' in html
    assert "fraud-team/fraud/fraud-detector:v0" in html
    assert "linked v0 from fraud-team/fraud/fraud-detector:v0" in html
    assert "set the alias champion on v1" in html
    assert "<code>fraud-team/model-registry/fraud-detector</code>" in html


def test_version_page_shows_path_metadata_files(signed_in, legacy_versions, member):
    html = body(signed_in(member).get(VERSION))

    assert (
        '<code id="full-path" class="full-path">fraud-team/model-registry/fraud-detector:v1</code>'
        in html
    )
    assert "<li><code>fraud-team/model-registry/fraud-detector:champion</code></li>" in html
    assert "<code>auc</code>" in html
    assert "<code>model.pkl</code>" in html
    assert "api.artifact(&quot;fraud-team/model-registry/fraud-detector:v1&quot;)" in html
    assert "<script>" not in html.split("</head>")[1]


def test_markdown_description_is_sanitized(signed_in, registered_model, member, team_viewer):
    services.edit_description(
        target=registered_model,
        text="Hi <script>alert(1)</script> [x](javascript:alert(1))",
        actor=member,
    )

    # A viewer gets no edit form, whose textarea would show the Markdown source escaped.
    html = body(signed_in(team_viewer).get(MODEL))

    assert "alert(1)</script>" not in html
    assert "javascript:" not in html


def test_navigation_lists_team_legacy_registry(signed_in, legacy_versions, member, stranger):
    member_html = body(signed_in(member).get("/"))

    assert f'<a href="{LIST}"' in member_html
    assert "fraud-team Model Registry (legacy)" in member_html
    assert f'<a href="{LIST}"' not in body(signed_in(stranger).get("/"))


# In-place edits ---------------------------------------------------------------------------------


def test_set_alias_htmx_returns_partial(signed_in, legacy_versions, member):
    response = signed_in(member).post(f"{MODEL}versions/v0/aliases/", {"name": "staging"}, **HTMX)

    html = body(response)
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="version-aliases"')
    assert "staging" in html
    assert "The alias “staging” now points at v0." in html
    assert 'hx-swap-oob="innerHTML"' in html
    assert LegacyAlias.objects.get(name="staging").version.index == 0


def test_set_alias_without_js_redirects(signed_in, legacy_versions, member):
    client = signed_in(member)

    response = client.post(f"{MODEL}versions/v0/aliases/", {"name": "staging"})
    page = client.get(response["Location"])

    assert response.status_code == 302
    assert response["Location"] == f"{MODEL}versions/v0/"
    assert "The alias “staging” now points at v0." in body(page)


def test_invalid_alias_is_422_with_message(signed_in, legacy_versions, member):
    response = signed_in(member).post(f"{VERSION}aliases/", {"name": "v7"}, **HTMX)

    assert response.status_code == 422
    assert "is reserved" in body(response)
    assert 'aria-invalid="true"' in body(response)


def test_row_alias_on_model_page_updates_history(signed_in, legacy_versions, member):
    response = signed_in(member).post(
        f"{MODEL}versions/v2/aliases/", {"name": "champion", "page": "model"}, **HTMX
    )

    html = body(response)
    assert html.lstrip().startswith('<section id="model-versions"')
    assert 'id="model-history" class="panel"' in html
    assert "moved the alias champion from v1 to v2" in html


def test_edit_description_and_tags(signed_in, legacy_versions, member):
    client = signed_in(member)

    client.post(f"{MODEL}description/", {"text": "# New card"}, **HTMX)
    client.post(f"{MODEL}tags/", {"name": "cards"}, **HTMX)
    client.post(f"{VERSION}tags/", {"name": "nightly"}, **HTMX)
    client.post(f"{VERSION}description/", {"text": "tuned"}, **HTMX)
    removed = client.post(f"{MODEL}tags/remove/", {"name": "cards"}, **HTMX)

    model = RegisteredModel.objects.get()
    assert model.description == "# New card"
    assert not model.tags.exists()
    assert list(legacy_versions[1].tags.values_list("name", flat=True)) == ["nightly"]
    legacy_versions[1].refresh_from_db()
    assert legacy_versions[1].description == "tuned"
    assert "Removed the tag “cards”." in body(removed)


def test_create_model_from_list(signed_in, legacy_registry, member):
    response = signed_in(member).post(
        f"{LIST}models/create/", {"name": "churn", "description": "Who leaves."}
    )

    assert response.status_code == 302
    assert response["Location"] == f"{LIST}churn/"
    assert RegisteredModel.objects.get().description == "Who leaves."


def test_create_model_bad_name_is_422(signed_in, legacy_registry, member):
    response = signed_in(member).post(f"{LIST}models/create/", {"name": "a#b"}, **HTMX)

    assert response.status_code == 422
    assert "contains &#x27;#&#x27;" in body(response)
    assert not RegisteredModel.objects.exists()


def test_link_version_from_model_page(signed_in, registered_model, project, member):
    source = log_version(project, member)
    client = signed_in(member)
    assert source.source_path in body(client.get(MODEL))

    response = client.post(
        f"{MODEL}link/", {"version": source.pk, "aliases": "staging, prod"}, **HTMX
    )

    assert response.status_code == 200
    assert "Linked the version." in body(response)
    linked = registered_model.versions.get()
    assert linked.version == source
    assert sorted(linked.aliases.values_list("name", flat=True)) == ["latest", "prod", "staging"]


def test_unlink_version_from_version_page(signed_in, legacy_versions, member):
    response = signed_in(member).post(f"{MODEL}versions/v2/unlink/")

    assert response.status_code == 302
    assert response["Location"] == MODEL
    assert list(legacy_versions[0].model.versions.values_list("index", flat=True)) == [0, 1]


def test_protected_aliases_managed_by_team_admin(signed_in, legacy_versions, team_admin, member):
    admin_client = signed_in(team_admin)

    response = admin_client.post(f"{LIST}protected-aliases/add/", {"name": "prod"}, **HTMX)

    assert response.status_code == 200
    assert "Protected the alias “prod”." in body(response)
    member_client = signed_in(member)
    rejected = member_client.post(f"{VERSION}aliases/", {"name": "prod"}, **HTMX)
    assert rejected.status_code == 403
    assert "protected alias prod" in body(rejected)


def test_paused_edit_is_423_with_retry_after(signed_in, legacy_versions, member):
    pause(legacy_versions[0].model.legacy_registry)

    response = signed_in(member).post(f"{VERSION}aliases/", {"name": "staging"}, **HTMX)

    assert response.status_code == 423
    assert int(response["Retry-After"]) >= 30
    assert "is paused for writes: migration of fraud-team" in body(response)
    assert not LegacyAlias.objects.filter(name="staging").exists()


def test_paused_page_reads_with_note(signed_in, legacy_versions, member):
    pause(legacy_versions[0].model.legacy_registry)

    html = body(signed_in(member).get(MODEL))

    assert "Changes are paused while this legacy Model Registry is migrated" in html
    assert "v2" in html


# After the migration ----------------------------------------------------------------------------


def test_read_only_list_has_note_and_no_controls(signed_in, legacy_versions, member, org_admin):
    migrate(legacy_versions[0].model.legacy_registry, actor=org_admin)

    html = body(signed_in(member).get(LIST))

    assert "This legacy Model Registry is read-only since its migration to" in html
    assert "acme/wandb-registry-fraud-team" in html
    assert "stays readable until" in html
    assert "New registered model" not in html
    assert ">fraud-detector</a>" in html


def test_read_only_write_is_403_with_new_path(signed_in, legacy_versions, member, org_admin):
    migrate(legacy_versions[0].model.legacy_registry, actor=org_admin)

    response = signed_in(member).post(f"{VERSION}tags/", {"name": "late"})

    assert response.status_code == 403
    assert "is now acme/wandb-registry-fraud-team/fraud-detector:v1" in body(response)


def test_support_reads_migrated_pages(signed_in, legacy_versions, support, org_admin):
    migrate(legacy_versions[0].model.legacy_registry, actor=org_admin)

    response = signed_in(support).get(VERSION)

    assert response.status_code == 200
    assert "read-only since its migration" in body(response)
    assert "Set or move an alias" not in body(response)


# Linking and unlinking --------------------------------------------------------------------------


def link_form(html: str) -> str:
    start = html.index("<legend>Link a version")
    return html[start : html.index("</fieldset>", start)]


def test_link_form_starts_without_choice(signed_in, registered_model, project, member):
    same_name = log_version(project, member)
    other = log_version(project, member, name="reranker-cross-encoder")

    form = link_form(body(signed_in(member).get(MODEL)))

    assert '<option value="">Choose a version</option>' in form
    assert " selected" not in form
    assert form.index(same_name.source_path) < form.index(other.source_path)
    assert 'name="source_path"' in form


@pytest.mark.parametrize(("headers", "status"), [(HTMX, 422), ({}, 200)])
def test_link_without_choice_names_fix(
    signed_in, registered_model, project, member, headers, status
):
    log_version(project, member)

    response = signed_in(member).post(
        f"{MODEL}link/", {"version": "", "source_path": ""}, **headers
    )

    assert response.status_code == status
    assert "No source version was chosen; choose one in the list or write its" in body(response)
    assert missing_described_by_ids(body(response)) == []
    assert not registered_model.versions.exists()


def test_link_by_source_path(signed_in, registered_model, project, member):
    log_version(project, member)
    second = log_version(project, member)
    log_version(project, member, name="reranker-cross-encoder")

    response = signed_in(member).post(
        f"{MODEL}link/", {"source_path": " fraud-team/fraud/fraud-detector:v1 "}, **HTMX
    )

    assert response.status_code == 200
    assert "Linked the version." in body(response)
    assert registered_model.versions.get().version == second


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (
            "fraud-detector:v1",
            "The source path &#x27;fraud-detector:v1&#x27; has 0 &#x27;/&#x27; separators; "
            "write TEAM/PROJECT/ARTIFACT:vN.",
        ),
        ("fraud-team/fraud/fraud-detector:v9", "No version was found at the source path "),
    ],
)
def test_link_by_bad_source_path_names_it(
    signed_in, registered_model, project, member, path, message
):
    log_version(project, member)

    response = signed_in(member).post(f"{MODEL}link/", {"source_path": path}, **HTMX)

    assert response.status_code == 422
    assert message in body(response)
    assert f'value="{path}"' in body(response)
    assert not registered_model.versions.exists()


def test_link_with_choice_and_path_rejected(signed_in, registered_model, project, member):
    source = log_version(project, member)

    response = signed_in(member).post(
        f"{MODEL}link/",
        {"version": source.pk, "source_path": "fraud-team/fraud/fraud-detector:v0"},
        **HTMX,
    )

    assert response.status_code == 422
    assert "keep one of them" in body(response)
    assert not registered_model.versions.exists()


@pytest.mark.parametrize("url", [MODEL, VERSION])
def test_unlink_button_sits_behind_confirmation(signed_in, legacy_versions, member, url):
    html = body(signed_in(member).get(url))

    form_at = html.index(
        'action="/orgs/acme/teams/fraud-team/model-registry/fraud-detector/versions/v1/unlink/"'
    )
    details_at = html.rindex("<details", 0, form_at)
    assert "</details>" not in html[details_at:form_at]
    assert "is never used again" in html[details_at:form_at]
    assert ">Unlink v1</button>" in html[form_at:]


@pytest.mark.parametrize(
    ("path", "page"),
    [
        (f"{LIST}models/create/", LIST),
        (f"{LIST}protected-aliases/add/", LIST),
        (f"{MODEL}description/", MODEL),
        (f"{MODEL}tags/", MODEL),
        (f"{MODEL}link/", MODEL),
        (f"{VERSION}unlink/", VERSION),
        (f"{VERSION}aliases/", VERSION),
        (f"{VERSION}description/", VERSION),
    ],
)
def test_get_on_form_address_redirects_to_form(signed_in, legacy_versions, member, path, page):
    response = signed_in(member).get(path, follow=True)

    assert response.redirect_chain == [(page, 302)]
    assert response.status_code == 200
    assert "fraud-team Model Registry" in body(response)


def test_get_on_form_address_of_stranger_is_404(signed_in, legacy_versions, stranger):
    response = signed_in(stranger).get(f"{VERSION}unlink/", follow=True)

    assert response.status_code == 404


def test_form_address_rejects_other_methods(signed_in, legacy_versions, member):
    response = signed_in(member).put(f"{VERSION}unlink/")

    assert response.status_code == 405
    assert legacy_versions[0].model.versions.count() == 3


def test_bad_source_path_message_once(signed_in, registered_model, member):
    response = signed_in(member).post(f"{MODEL}link/", {"source_path": "garbage"}, **HTMX)

    html = body(response)
    assert response.status_code == 422
    assert (
        "<p>The source path &#x27;garbage&#x27; has 0 &#x27;/&#x27; separators; "
        "write TEAM/PROJECT/ARTIFACT:vN.</p>"
    ) in html
    assert html.count("garbage&#x27;") == 1


def test_long_source_path_is_cut_in_message(signed_in, registered_model, project, member):
    log_version(project, member)
    path = "x" * 300

    response = signed_in(member).post(f"{MODEL}link/", {"source_path": path}, **HTMX)

    html = body(response)
    assert response.status_code == 422
    assert f"The source path &#x27;{'x' * 100}…&#x27; has 0" in html
    assert f'value="{path}"' in html
    assert not registered_model.versions.exists()


def test_long_missing_source_path_is_cut(signed_in, registered_model, member):
    path = f"fraud-team/fraud/{'y' * 120}:v1"

    response = signed_in(member).post(f"{MODEL}link/", {"source_path": path}, **HTMX)

    html = body(response)
    assert response.status_code == 422
    assert f"No version was found at the source path &#x27;{path[:100]}…&#x27;;" in html


def test_source_path_over_limit_names_limit(signed_in, registered_model, project, member):
    log_version(project, member)
    path = "fraud-team/fraud/" + "z" * 600

    response = signed_in(member).post(f"{MODEL}link/", {"source_path": path}, **HTMX)

    html = body(response)
    assert response.status_code == 422
    assert "The source path is 617 characters long; the limit is 500." in html
    assert "z" * 101 not in html.replace(f'value="{path}"', "")
    assert not registered_model.versions.exists()
