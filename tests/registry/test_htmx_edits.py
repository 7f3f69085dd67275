"""In-place edits: each POST changes the database and re-renders its part of the page.

With HX-Request the answer is the edited section's partial followed by out-of-band updates
(the status region, and on the collection page its history); without it, a redirect after
success or the whole page again with the message after a rejection.
"""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.registry import services
from apps.registry.models import Alias, Collection, CollectionLink, Registry, Tag
from tests.registry.conftest import COLLECTION_URL, HTMX, version_url


def alias_holder(name: str) -> int | None:
    alias = Alias.objects.filter(name=name).select_related("link").first()
    return alias.link.index if alias else None


def first_element(body: str) -> str:
    return re.match(r"\s*(<[^>]+>)", body).group(1)


def status_region(body: str) -> str:
    start = body.index('<div id="status"')
    return body[start : body.index("</div>", start)]


# Collection description ---------------------------------------------------------------------


def test_collection_description_htmx(member_client, collection):
    response = member_client.post(
        f"{COLLECTION_URL}description/", {"text": "Scores **card** payments."}, headers=HTMX
    )

    body = response.content.decode()
    collection.refresh_from_db()
    assert response.status_code == 200
    assert collection.description == "Scores **card** payments."
    assert first_element(body).startswith('<section id="collection-description"')
    assert "<p>Scores <strong>card</strong> payments.</p>" in body
    assert '<section id="collection-history" class="panel"' in body
    assert 'hx-swap-oob="true"' in body
    assert "edited the description of fraud-detector" in body
    assert "Saved the description." in status_region(body)
    assert "<html" not in body


def test_collection_description_plain_post_redirects(member_client, collection):
    response = member_client.post(
        f"{COLLECTION_URL}description/",
        {"text": "Plain *form*.", "next": f"{COLLECTION_URL}?after=5"},
    )
    page = member_client.get(response["Location"]).content.decode()

    assert response.status_code == 302
    assert response["Location"] == f"{COLLECTION_URL}?after=5"
    assert "<p>Plain <em>form</em>.</p>" in page
    assert "Saved the description." in status_region(page)


def test_plain_post_ignores_foreign_next(member_client, collection):
    response = member_client.post(
        f"{COLLECTION_URL}description/", {"text": "x", "next": "https://example.com/"}
    )

    assert response["Location"] == COLLECTION_URL


def test_collection_description_script_stripped_on_rerender(member_client, collection):
    response = member_client.post(
        f"{COLLECTION_URL}description/",
        {"text": "Fine<script>alert('x')</script> text"},
        headers=HTMX,
    )

    body = response.content.decode()
    rendered = body[: body.index("<details")]
    assert "<p>Fine text</p>" in rendered
    assert "<script>" not in body


# Collection tags ----------------------------------------------------------------------------


def test_add_collection_tag_htmx(member_client, collection):
    response = member_client.post(f"{COLLECTION_URL}tags/", {"name": "card fraud"}, headers=HTMX)

    body = response.content.decode()
    assert response.status_code == 200
    assert list(collection.tags.values_list("name", flat=True)) == ["card fraud"]
    assert first_element(body).startswith('<section id="collection-tags"')
    assert re.search(r'<li class="tag">\s*card fraud', body)
    assert "added the tag card fraud to fraud-detector" in body


def test_add_collection_tag_plain_post(member_client, collection):
    response = member_client.post(f"{COLLECTION_URL}tags/", {"name": "nightly"}, follow=True)

    body = response.content.decode()
    assert response.redirect_chain == [(COLLECTION_URL, 302)]
    assert re.search(r'<li class="tag">\s*nightly', body)
    assert "Added the tag “nightly”." in body


def test_invalid_collection_tag_htmx_shows_message(member_client, collection):
    response = member_client.post(f"{COLLECTION_URL}tags/", {"name": "best!"}, headers=HTMX)

    body = response.content.decode()
    assert response.status_code == 422
    assert collection.tags.count() == 0
    assert first_element(body).startswith('<section id="collection-tags"')
    assert 'id="collection-tags-errors" role="alert"' in body
    assert "contains &#x27;!&#x27;" in body
    assert 'value="best!" aria-invalid="true"' in body


def test_invalid_collection_tag_plain_post_rerenders_page(member_client, collection):
    response = member_client.post(f"{COLLECTION_URL}tags/", {"name": "best!"})

    body = response.content.decode()
    assert response.status_code == 200
    assert body.startswith("<!DOCTYPE html>")
    assert "contains &#x27;!&#x27;" in body
    assert Tag.objects.count() == 0


def test_remove_collection_tag_htmx(member_client, collection, member):
    services.add_tag(target=collection, name="obsolete", actor=member)

    response = member_client.post(
        f"{COLLECTION_URL}tags/remove/", {"name": "obsolete"}, headers=HTMX
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert collection.tags.count() == 0
    assert "No tags." in body
    assert "removed the tag obsolete from fraud-detector" in body


def test_remove_missing_collection_tag_is_rejected(member_client, collection):
    response = member_client.post(f"{COLLECTION_URL}tags/remove/", {"name": "ghost"}, headers=HTMX)

    assert response.status_code == 422
    assert "&#x27;fraud-detector&#x27; has no tag &#x27;ghost&#x27;" in response.content.decode()


# Aliases on the rows of the collection page -------------------------------------------------


def test_row_alias_move_htmx(member_client, linked):
    response = member_client.post(
        f"{version_url(2)}aliases/",
        {"name": "champion", "page": "collection", "next": COLLECTION_URL},
        headers=HTMX,
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert alias_holder("champion") == 2
    assert first_element(body).startswith('<section id="collection-versions"')
    row_2 = body[body.index('<tr id="version-row-2">') : body.index('<tr id="version-row-1">')]
    row_1 = body[body.index('<tr id="version-row-1">') : body.index('<tr id="version-row-0">')]
    assert re.search(r'<li class="alias">\s*champion', row_2)
    assert "champion" not in row_1
    assert "moved the alias champion from v1 to v2" in body
    assert "The alias “champion” now points at v2." in status_region(body)


def test_row_alias_plain_post_returns_to_page(member_client, linked, settings):
    settings.REGISTRY_PAGE_SIZE = 2
    response = member_client.post(
        f"{version_url(0)}aliases/",
        {"name": "staging", "page": "collection", "next": f"{COLLECTION_URL}?after=1"},
    )

    assert response.status_code == 302
    assert response["Location"] == f"{COLLECTION_URL}?after=1"
    assert alias_holder("staging") == 0


def test_row_alias_htmx_keeps_page_position(member_client, linked, settings):
    settings.REGISTRY_PAGE_SIZE = 2
    response = member_client.post(
        f"{version_url(0)}aliases/",
        {"name": "staging", "page": "collection", "next": f"{COLLECTION_URL}?after=1"},
        headers=HTMX,
    )

    body = response.content.decode()
    assert re.findall(r'<tr id="version-row-(\d+)">', body) == ["0"]
    assert re.search(r'<li class="alias">\s*staging', body)


@pytest.mark.parametrize("name", ["latest", "LATEST", "v3", "V12"])
def test_row_reserved_alias_is_rejected(member_client, linked, name):
    response = member_client.post(
        f"{version_url(0)}aliases/",
        {"name": name, "page": "collection", "next": COLLECTION_URL},
        headers=HTMX,
    )

    body = response.content.decode()
    assert response.status_code == 422
    assert f"The alias &#x27;{name}&#x27; is reserved" in body
    assert 'id="row-alias-0-errors" role="alert"' in body
    assert f'id="row-alias-0" maxlength="128" required placeholder="alias" value="{name}"' in body
    assert alias_holder("latest") == 2
    assert not Alias.objects.filter(name=name).exclude(name="latest").exists()


def test_row_reserved_alias_plain_post_rerenders_page(member_client, linked):
    response = member_client.post(
        f"{version_url(0)}aliases/", {"name": "v3", "page": "collection", "next": COLLECTION_URL}
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert "<h1>fraud-detector</h1>" in body
    assert "The alias &#x27;v3&#x27; is reserved" in body


def test_row_alias_remove_htmx(member_client, linked):
    response = member_client.post(
        f"{version_url(1)}aliases/remove/",
        {"name": "champion", "page": "collection", "next": COLLECTION_URL},
        headers=HTMX,
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert alias_holder("champion") is None
    assert "removed the alias champion from v1" in body
    assert first_element(body).startswith('<section id="collection-versions"')


# Aliases, tags and description on the version page ------------------------------------------


def test_version_alias_set_htmx(member_client, linked):
    response = member_client.post(f"{version_url(0)}aliases/", {"name": "staging"}, headers=HTMX)

    body = response.content.decode()
    assert response.status_code == 200
    assert alias_holder("staging") == 0
    assert first_element(body).startswith('<section id="version-aliases"')
    assert "<code>acme/wandb-registry-model/fraud-detector:staging</code>" in body
    assert "The alias “staging” now points at v0." in status_region(body)
    assert "collection-history" not in body


def test_version_alias_set_plain_post_redirects(member_client, linked):
    response = member_client.post(f"{version_url(0)}aliases/", {"name": "champion"}, follow=True)

    body = response.content.decode()
    assert response.redirect_chain == [(version_url(0), 302)]
    assert alias_holder("champion") == 0
    assert re.search(r'<li class="alias">\s*champion', body)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("latest", "The alias &#x27;latest&#x27; is reserved"),
        ("v3", "The alias &#x27;v3&#x27; is reserved"),
        ("two words", "contains a space"),
        ("a/b", "contains &#x27;/&#x27;"),
        ("", "Enter an alias, for example production."),
    ],
)
def test_version_alias_bad_input(member_client, linked, name, message):
    response = member_client.post(f"{version_url(0)}aliases/", {"name": name}, headers=HTMX)

    body = response.content.decode()
    assert response.status_code == 422
    assert message in body
    assert 'id="version-aliases-errors" role="alert"' in body
    assert Alias.objects.count() == 2


def test_version_alias_remove_htmx(member_client, linked):
    response = member_client.post(
        f"{version_url(1)}aliases/remove/", {"name": "champion"}, headers=HTMX
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert alias_holder("champion") is None
    assert "No aliases point at v1." in body


def test_alias_removal_from_wrong_version_is_rejected(member_client, linked, member):
    services.set_alias(link=linked[2], name="champion", actor=member)

    response = member_client.post(
        f"{version_url(1)}aliases/remove/", {"name": "champion"}, headers=HTMX
    )

    assert response.status_code == 422
    assert "is not on v1 any more" in response.content.decode()
    assert alias_holder("champion") == 2


def test_latest_cannot_be_removed(member_client, linked):
    response = member_client.post(f"{version_url(2)}aliases/remove/", {"name": "latest"})

    assert response.status_code == 200
    assert "is kept by the registry itself" in response.content.decode()
    assert alias_holder("latest") == 2


def test_version_tag_add_and_remove_htmx(member_client, linked):
    added = member_client.post(f"{version_url(1)}tags/", {"name": "Validated"}, headers=HTMX)
    removed = member_client.post(
        f"{version_url(1)}tags/remove/", {"name": "validated"}, headers=HTMX
    )

    assert added.status_code == 200
    assert first_element(added.content.decode()).startswith('<section id="version-tags"')
    assert re.search(r'<li class="tag">\s*Validated', added.content.decode())
    assert removed.status_code == 200
    assert "No tags on v1." in removed.content.decode()
    assert linked[1].tags.count() == 0


def test_version_tag_with_bang_is_rejected(member_client, linked):
    response = member_client.post(f"{version_url(1)}tags/", {"name": "ready!"}, headers=HTMX)

    body = response.content.decode()
    assert response.status_code == 422
    assert "The tag &#x27;ready!&#x27; contains &#x27;!&#x27;" in body
    assert 'id="version-tags-errors" role="alert"' in body
    assert linked[1].tags.count() == 0


def test_version_tag_plain_post_redirects(member_client, linked):
    response = member_client.post(f"{version_url(1)}tags/", {"name": "nightly"})

    assert response.status_code == 302
    assert response["Location"] == version_url(1)
    assert list(linked[1].tags.values_list("name", flat=True)) == ["nightly"]


def test_version_description_htmx(member_client, linked):
    response = member_client.post(
        f"{version_url(1)}description/",
        {"text": "Picked in the **May** review.<script>alert(1)</script>"},
        headers=HTMX,
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert CollectionLink.objects.get(pk=linked[1].pk).description.startswith("Picked")
    assert first_element(body).startswith('<section id="version-description"')
    assert "<p>Picked in the <strong>May</strong> review.</p>" in body
    assert "<script>" not in body


def test_version_description_plain_post(member_client, linked):
    response = member_client.post(f"{version_url(1)}description/", {"text": "Plain."}, follow=True)

    assert response.redirect_chain == [(version_url(1), 302)]
    assert "<p>Plain.</p>" in response.content.decode()


def test_edit_endpoints_reject_get(member_client, linked):
    response = member_client.get(f"{version_url(1)}aliases/")

    assert response.status_code == 405


# Refusals: 403 for those who may see but not change, 423 during a write pause --------------


def test_viewer_write_is_403_with_reason(viewer_client, linked):
    response = viewer_client.post(f"{version_url(0)}aliases/", {"name": "champion"})

    body = response.content.decode()
    assert response.status_code == 403
    assert "<h1>Not allowed</h1>" in body
    assert "needs the Member role" in body
    assert alias_holder("champion") == 1


def test_viewer_htmx_write_is_403_in_status_region(viewer_client, linked):
    response = viewer_client.post(f"{COLLECTION_URL}tags/", {"name": "mine"}, headers=HTMX)

    body = response.content.decode()
    assert response.status_code == 403
    assert response["HX-Retarget"] == "#status"
    assert response["HX-Reswap"] == "outerHTML"
    assert first_element(body).startswith('<div id="status"')
    assert '<p class="message message-error" role="alert">' in body
    assert "needs the Member role" in body
    assert Collection.objects.get(name="fraud-detector").tags.count() == 0


@pytest.mark.parametrize(
    ("url", "data"),
    [
        (f"{COLLECTION_URL}description/", {"text": "Mine now."}),
        (f"{COLLECTION_URL}tags/", {"name": "mine"}),
        (f"{version_url(1)}aliases/remove/", {"name": "champion"}),
        (f"{version_url(1)}tags/", {"name": "mine"}),
        (f"{version_url(1)}description/", {"text": "Mine now."}),
    ],
)
def test_viewer_cannot_edit_anything(viewer_client, linked, url, data):
    response = viewer_client.post(url, data)

    assert response.status_code == 403
    assert "needs the Member role" in response.content.decode()
    assert alias_holder("champion") == 1
    assert Tag.objects.count() == 0


def test_member_moving_protected_alias_is_403(member_client, linked, model_registry, org_admin):
    services.add_protected_alias(registry=model_registry, name="champion", actor=org_admin)

    response = member_client.post(f"{version_url(2)}aliases/", {"name": "champion"})

    assert response.status_code == 403
    assert "needs the Admin role" in response.content.decode()
    assert alias_holder("champion") == 1


def test_write_pause_is_423_with_retry_after(member_client, linked, model_registry):
    Registry.objects.filter(pk=model_registry.pk).update(
        write_paused_since=timezone.now(),
        write_pause_ends_at=timezone.now() + timedelta(minutes=20),
        write_pause_reason="migration of fraud-team",
    )

    htmx = member_client.post(f"{version_url(2)}aliases/", {"name": "champion"}, headers=HTMX)
    plain = member_client.post(f"{version_url(2)}aliases/", {"name": "champion"})

    assert htmx.status_code == 423
    assert plain.status_code == 423
    assert 30 <= int(htmx["Retry-After"]) <= 20 * 60
    assert "paused for writes: migration of fraud-team" in htmx.content.decode()
    assert "paused for writes: migration of fraud-team" in plain.content.decode()
    assert alias_holder("champion") == 1
