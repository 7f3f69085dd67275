"""Members and roles on the settings page: list, add with autocomplete, change, remove, owner.

Also the rule that a registry keeps an Admin, and leaving a registry from its page.
"""

import re

import pytest

from apps.audit.models import AuditEvent
from apps.orgs import services as org_services
from apps.registry import services
from apps.registry.access import member_rows
from apps.registry.models import Registry
from apps.registry.roles import Role
from tests.conftest import make_user
from tests.registry.conftest import HTMX, signed_in

SECRET = "/orgs/acme/registries/secret-models/"
SETTINGS = f"{SECRET}settings/"
MEMBERS = f"{SETTINGS}members/"
LAST_ADMIN = "ada is the registry&#x27;s last Admin; make someone else Admin first."


@pytest.fixture
def admin_client(registry_admin):
    return signed_in(registry_admin)


def granted(registry: Registry) -> dict[str, Role]:
    return {row.name: row.granted for row in member_rows(registry)}


def member_row(body: str, name: str) -> str:
    """Return the table row of a member, from its <tr> to its </tr>."""
    match = re.search(
        rf'<tr id="member-\d+">\s*<th scope="row">\s*{re.escape(name)}\s.*?</tr>', body, re.S
    )
    assert match, f"no row for {name}"
    return match.group(0)


def effective(row: str) -> str:
    return re.sub(r"\s+", " ", row.split('class="effective-role">')[1].split("</td>")[0]).strip()


# The list ------------------------------------------------------------------------------------


def test_list_shows_granted_and_effective_roles(
    admin_client, secret_registry, registry_admin, member, team, org_admin
):
    services.add_member(registry=secret_registry, member=member, actor=registry_admin)
    services.add_member(
        registry=secret_registry, member=team, role=Role.MEMBER, actor=registry_admin
    )
    services.add_member(
        registry=secret_registry, member=org_admin, role=Role.VIEWER, actor=registry_admin
    )

    body = admin_client.get(SETTINGS).content.decode()

    mike = member_row(body, "mike")
    assert '<option value="restricted_viewer" selected>Restricted Viewer</option>' in mike
    assert (
        effective(mike)
        == '<strong>Member</strong> <span class="muted small">source: team fraud-team</span>'
    )
    olivia = member_row(body, "olivia")
    assert '<option value="viewer" selected>Viewer</option>' in olivia
    assert "<strong>Admin</strong>" in effective(olivia)
    assert "source: org admin" in effective(olivia)
    fraud_team = member_row(body, "fraud-team")
    assert '<span class="muted small">team</span>' in fraud_team
    assert "source: team fraud-team" in effective(fraud_team)
    ada = member_row(body, "ada")
    assert '<span class="badge">owner</span>' in ada
    assert "source: direct" in effective(ada)


def test_list_shows_organization_source(admin_client, secret_registry, registry_admin, member):
    services.add_member(registry=secret_registry, member=member, actor=registry_admin)
    services.set_visibility(
        registry=secret_registry, visibility="organization", confirmed=True, actor=registry_admin
    )

    body = admin_client.get(SETTINGS).content.decode()

    mike = member_row(body, "mike")
    assert "<strong>Viewer</strong>" in effective(mike)
    assert "source: organization" in effective(mike)


def test_members_page_is_read_only_for_viewers(secret_registry, registry_admin, member):
    services.add_member(registry=secret_registry, member=member, actor=registry_admin)

    response = signed_in(member).get(f"{SECRET}members/")

    body = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Members of secret-models</h1>" in body
    assert "<td>Restricted Viewer</td>" in body
    assert "<form" not in body.split('<main id="main"')[1]


# Adding --------------------------------------------------------------------------------------


def test_add_user_defaults_to_restricted_viewer(admin_client, secret_registry, member):
    response = admin_client.post(MEMBERS, {"kind": "user", "name": "mike"}, headers=HTMX)

    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<section id="settings-members"')
    assert "Added mike with the Restricted Viewer role." in body
    assert granted(secret_registry)["mike"] == Role.RESTRICTED_VIEWER
    event = AuditEvent.objects.get(action="member.added", registry_id=secret_registry.pk)
    assert event.data == {"member": "mike", "role": "restricted_viewer"}


def test_add_team_defaults_to_restricted_viewer(admin_client, secret_registry, team):
    admin_client.post(MEMBERS, {"kind": "team", "name": "FRAUD-TEAM"})

    assert granted(secret_registry)["fraud-team"] == Role.RESTRICTED_VIEWER


def test_add_service_account_defaults_to_member(admin_client, secret_registry, team):
    org_services.create_service_account(team=team, name="deploy-bot")

    response = admin_client.post(MEMBERS, {"kind": "user", "name": "deploy-bot"}, headers=HTMX)

    assert "Added deploy-bot with the Member role." in response.content.decode()
    assert granted(secret_registry)["deploy-bot"] == Role.MEMBER
    assert '<span class="muted small">service account</span>' in response.content.decode()


def test_service_account_never_below_member(admin_client, secret_registry, team):
    org_services.create_service_account(team=team, name="deploy-bot")

    response = admin_client.post(
        MEMBERS, {"kind": "user", "name": "deploy-bot", "role": "viewer"}, headers=HTMX
    )

    assert response.status_code == 422
    assert "needs at least the Member role" in response.content.decode()
    assert "deploy-bot" not in granted(secret_registry)


def test_add_with_chosen_role(admin_client, secret_registry, member):
    admin_client.post(MEMBERS, {"kind": "user", "name": "mike", "role": "admin"})

    assert granted(secret_registry)["mike"] == Role.ADMIN


def test_add_twice_says_change_instead(admin_client, secret_registry, member):
    admin_client.post(MEMBERS, {"kind": "user", "name": "mike"})

    response = admin_client.post(MEMBERS, {"kind": "user", "name": "mike"}, headers=HTMX)

    assert response.status_code == 422
    assert "mike is already a member; change their role instead." in response.content.decode()


def test_add_user_of_other_org_is_unknown(admin_client, secret_registry, outsider):
    response = admin_client.post(MEMBERS, {"kind": "user", "name": "oscar"}, headers=HTMX)

    body = response.content.decode()
    assert response.status_code == 422
    assert "No user named &#x27;oscar&#x27; belongs to the organization &#x27;acme&#x27;" in body
    assert "globex" not in body
    assert "oscar" not in granted(secret_registry)


def test_add_without_javascript_redirects(admin_client, secret_registry, member):
    response = admin_client.post(MEMBERS, {"kind": "user", "name": "mike"})
    page = admin_client.get(response["Location"]).content.decode()

    assert response.status_code == 302
    assert response["Location"] == SETTINGS
    assert "Added mike with the Restricted Viewer role." in page


# Autocomplete --------------------------------------------------------------------------------


def test_autocomplete_offers_org_users_and_teams(
    admin_client, secret_registry, member, team, other_org
):
    org_services.add_org_member(organization=other_org, user=make_user("mika-from-globex"))
    response = admin_client.get(f"{MEMBERS}candidates/", {"name": "MI"}, headers=HTMX)

    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="member-candidates"')
    assert "Add mike</button>" in body
    assert "mika-from-globex" not in body


def test_autocomplete_finds_teams(admin_client, secret_registry, team):
    body = admin_client.get(f"{MEMBERS}candidates/", {"name": "fraud"}).content.decode()

    assert '<input type="hidden" name="kind" value="team">' in body
    assert "Add fraud-team</button>" in body


def test_autocomplete_never_offers_other_orgs(admin_client, secret_registry, outsider, other_org):
    org_services.create_team(organization=other_org, name="oscar-team")

    body = admin_client.get(f"{MEMBERS}candidates/", {"name": "osc"}).content.decode()

    assert "oscar" not in body
    assert "No user or team of acme that is not yet a member matches “osc”." in body


def test_autocomplete_leaves_out_members(admin_client, secret_registry, registry_admin, member):
    services.add_member(registry=secret_registry, member=member, actor=registry_admin)

    body = admin_client.get(f"{MEMBERS}candidates/", {"name": "mike"}).content.decode()

    assert "Add mike" not in body


def test_autocomplete_for_admins_only(secret_registry, registry_admin, member):
    services.add_member(registry=secret_registry, member=member, actor=registry_admin)

    response = signed_in(member).get(f"{MEMBERS}candidates/", {"name": "a"}, headers=HTMX)

    assert response.status_code == 403
    assert "needs the Admin role" in response.content.decode()
    assert "Add ada" not in response.content.decode()


# Changing, removing, owner -------------------------------------------------------------------


def test_change_role_in_place(admin_client, secret_registry, registry_admin, member):
    services.add_member(registry=secret_registry, member=member, actor=registry_admin)

    response = admin_client.post(
        f"{MEMBERS}role/", {"kind": "user", "name": "mike", "role": "member"}, headers=HTMX
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert "mike now has the Member role." in body
    assert '<option value="member" selected>Member</option>' in member_row(body, "mike")
    event = AuditEvent.objects.get(action="member.role_changed")
    assert event.data == {"member": "mike", "from": "restricted_viewer", "to": "member"}


def test_change_role_of_unknown_member(admin_client, secret_registry, member):
    response = admin_client.post(
        f"{MEMBERS}role/", {"kind": "user", "name": "mike", "role": "member"}, headers=HTMX
    )

    assert response.status_code == 422
    assert "mike is not a member of &#x27;secret-models&#x27;; add them first." in (
        response.content.decode()
    )


def test_remove_team_member(admin_client, secret_registry, registry_admin, team):
    services.add_member(registry=secret_registry, member=team, actor=registry_admin)

    response = admin_client.post(
        f"{MEMBERS}remove/", {"kind": "team", "name": "fraud-team"}, headers=HTMX
    )

    assert response.status_code == 200
    assert "Removed fraud-team from the registry." in response.content.decode()
    assert "fraud-team" not in granted(secret_registry)
    assert AuditEvent.objects.get(action="member.removed").data == {"member": "team fraud-team"}


def test_make_owner(admin_client, secret_registry, registry_admin, member):
    services.add_member(registry=secret_registry, member=member, actor=registry_admin)

    response = admin_client.post(f"{MEMBERS}owner/", {"kind": "user", "name": "mike"}, headers=HTMX)

    body = response.content.decode()
    secret_registry.refresh_from_db()
    assert secret_registry.owner == member
    assert "mike is now the registry&#x27;s owner." in body
    assert '<span class="badge">owner</span>' in member_row(body, "mike")
    assert '<span class="badge">owner</span>' not in member_row(body, "ada")
    assert granted(secret_registry)["mike"] == Role.RESTRICTED_VIEWER


def test_team_cannot_be_owner(admin_client, secret_registry, registry_admin, team):
    services.add_member(registry=secret_registry, member=team, actor=registry_admin)

    response = admin_client.post(
        f"{MEMBERS}owner/", {"kind": "team", "name": "fraud-team"}, headers=HTMX
    )

    assert response.status_code == 422
    assert "cannot be the owner" in response.content.decode()


# The last Admin ------------------------------------------------------------------------------


def test_last_admin_cannot_be_demoted(admin_client, secret_registry):
    response = admin_client.post(
        f"{MEMBERS}role/", {"kind": "user", "name": "ada", "role": "member"}, headers=HTMX
    )

    body = response.content.decode()
    assert response.status_code == 422
    assert LAST_ADMIN in body
    assert 'title="A registry always keeps an Admin">last Admin</span>' in member_row(body, "ada")
    assert granted(secret_registry)["ada"] == Role.ADMIN


def test_last_admin_cannot_be_removed(admin_client, secret_registry):
    response = admin_client.post(f"{MEMBERS}remove/", {"kind": "user", "name": "ada"})

    assert response.status_code == 200
    assert LAST_ADMIN in response.content.decode()
    assert granted(secret_registry)["ada"] == Role.ADMIN


def test_last_admin_cannot_leave(admin_client, secret_registry):
    response = admin_client.post(f"{SECRET}leave/", headers=HTMX)

    assert response.status_code == 422
    assert LAST_ADMIN in response.content.decode()
    assert granted(secret_registry)["ada"] == Role.ADMIN


def test_admin_who_demotes_self_leaves_settings(
    admin_client, secret_registry, registry_admin, member
):
    services.add_member(
        registry=secret_registry, member=member, role=Role.ADMIN, actor=registry_admin
    )

    response = admin_client.post(
        f"{MEMBERS}role/", {"kind": "user", "name": "ada", "role": "viewer"}, headers=HTMX
    )

    assert response.status_code == 200
    assert response["HX-Redirect"] == SECRET
    assert admin_client.get(SETTINGS).status_code == 403


def test_member_leaves_registry(secret_registry, registry_admin, member):
    services.add_member(registry=secret_registry, member=member, actor=registry_admin)
    client = signed_in(member)
    page = client.get(SECRET).content.decode()

    response = client.post(f"{SECRET}leave/")

    assert 'action="/orgs/acme/registries/secret-models/leave/"' in page
    assert response["Location"] == "/"
    assert "You left the registry “secret-models”." in client.get("/").content.decode()
    assert client.get(SECRET).status_code == 404
    assert AuditEvent.objects.get(action="member.removed").actor == member
