"""The role matrix of every registry-scoped API operation, generated from one rule.

For each operation the table gives the level it needs: see, download, change or admin.
Each persona's effective role on each registry follows from its grants and the registry's
visibility. The expected answer of a cell is then:

    anonymous                      401
    cannot see the registry        404, the same body as for a missing registry
    role below the level needed    403
    otherwise                      the operation's success status

and a write adds audit rows exactly when it succeeds.
"""

import json
from dataclasses import dataclass

import pytest

from apps.audit.models import AuditEvent
from apps.registry.roles import Role
from tests.api.conftest import PERSONAS, REGISTRIES

pytestmark = pytest.mark.django_db

RV, V, M, A = Role.RESTRICTED_VIEWER, Role.VIEWER, Role.MEMBER, Role.ADMIN
GRANTED = {
    "restricted_viewer": RV,
    "viewer": V,
    "member": M,
    "admin": A,
    "team_member": M,
    "org_admin": A,
}
ORG_MEMBERS = {p for p in PERSONAS if p not in ("anonymous", "outsider")}


def effective_role(persona: str, visibility: str) -> Role | None:
    role = GRANTED.get(persona)
    if visibility == "organization" and persona in ORG_MEMBERS:
        role = max(role or V, V)
    return role


LEVELS = {"see": RV, "download": V, "change": M, "admin": A}


@dataclass(frozen=True)
class Operation:
    name: str
    method: str
    path: str
    level: str
    success: int
    body: dict | None = None
    audited: bool = False


C = "collections/fraud-detector"
OPERATIONS = [
    Operation("read registry", "get", "", "see", 200),
    Operation("list collections", "get", "collections/", "see", 200),
    Operation("read collection", "get", f"{C}/", "see", 200),
    Operation("list versions", "get", f"{C}/versions/", "see", 200),
    Operation("read version", "get", f"{C}/versions/0/", "see", 200),
    Operation("list aliases", "get", f"{C}/aliases/", "see", 200),
    Operation("collection history", "get", f"{C}/history/", "see", 200),
    Operation("list members", "get", "members/", "see", 200),
    Operation("read member", "get", "members/users/rita/", "see", 200),
    Operation("list protected aliases", "get", "protected-aliases/", "see", 200),
    Operation("star", "put", "star/", "see", 204),
    Operation("unstar", "delete", "star/", "see", 204),
    Operation("read source version", "get", "@version", "see", 200),
    Operation("resolve path", "get", "@resolve", "see", 200),
    Operation("download file", "get", "@content", "download", 200),
    Operation("signed download url", "get", "@signed", "download", 200),
    Operation(
        "create collection",
        "post",
        "collections/",
        "change",
        201,
        {"name": "churn", "type": "model", "tags": ["crm"]},
        True,
    ),
    Operation(
        "update collection",
        "patch",
        f"{C}/",
        "change",
        200,
        {"description": "Reviewed.", "tags": ["eu"]},
        True,
    ),
    Operation("link version", "post", f"{C}/versions/", "change", 201, {"version_id": 0}, True),
    Operation(
        "update version", "patch", f"{C}/versions/0/", "change", 200, {"tags": ["gold"]}, True
    ),
    Operation("set alias", "put", f"{C}/aliases/staging/", "change", 200, {"index": 0}, True),
    Operation("remove alias", "delete", f"{C}/aliases/champion/", "change", 204, None, True),
    Operation("unlink version", "delete", f"{C}/versions/0/", "change", 204, None, True),
    Operation(
        "delete collection",
        "delete",
        "collections/other-model/?confirm=Other-Model",
        "change",
        204,
        None,
        True,
    ),
    Operation("unlink protected", "delete", f"{C}/versions/1/", "admin", 204, None, True),
    Operation(
        "move protected alias", "put", f"{C}/aliases/production/", "admin", 200, {"index": 0}, True
    ),
    Operation("update registry", "patch", "", "admin", 200, {"description": "Reviewed."}, True),
    Operation("add member", "post", "members/", "admin", 201, {"user": "uma"}, True),
    Operation(
        "change role", "patch", "members/users/rita/", "admin", 200, {"role": "viewer"}, True
    ),
    Operation("remove team", "delete", "members/teams/ml-team/", "admin", 204, None, True),
    Operation("make owner", "put", "owner/", "admin", 200, {"user": "vic"}, True),
    Operation("protect alias", "post", "protected-aliases/", "admin", 201, {"name": "gold"}, True),
    Operation(
        "unprotect alias", "delete", "protected-aliases/production/", "admin", 204, None, True
    ),
    Operation("read activity", "get", "activity/", "admin", 200),
    Operation("delete registry", "delete", "?confirm=@name", "admin", 204, None, True),
]


PROTECTED_CONTENT = {"unlink protected", "move protected alias"}


def expected_status(operation: Operation, persona: str, visibility: str) -> int:
    if persona == "anonymous":
        return 401
    role = effective_role(persona, visibility)
    if role is None:
        return 404
    if role < LEVELS[operation.level]:
        return 403
    return operation.success


def needed_role(operation: Operation, persona: str, visibility: str) -> Role:
    """The role a 403 names: the first gate the persona fails.

    Work on protected aliases is content work first, so a role below Member fails the
    Member gate before the Admin one.
    """
    if operation.name in PROTECTED_CONTENT and effective_role(persona, visibility) < M:
        return M
    return LEVELS[operation.level]


def _url(world, operation: Operation, visibility: str) -> str:
    registry = world.registries[visibility]
    base = f"/api/v1/orgs/acme/registries/{registry.name}/"
    source = world.versions[visibility][0]
    entry = source.files.get()
    special = {
        "@version": f"/api/v1/artifact-versions/{source.pk}/",
        "@resolve": (
            f"/api/v1/resolve/?path=acme/wandb-registry-{registry.name}/Fraud-Detector:champion"
        ),
        "@content": f"/api/v1/artifact-versions/{source.pk}/files/{entry.pk}/content/",
        "@signed": f"/api/v1/artifact-versions/{source.pk}/files/{entry.pk}/signed-url/",
    }
    if operation.path in special:
        return special[operation.path]
    return base + operation.path.replace("@name", registry.name)


def _body(world, operation: Operation, visibility: str):
    if operation.body is None:
        return None
    if operation.name == "link version":
        # Linked in Other-Model only, so everyone who can see the registry can see this version.
        return {"version_id": world.versions[visibility][2].pk}
    return operation.body


CELLS = [
    pytest.param(operation, persona, visibility, id=f"{operation.name}-{persona}-{visibility}")
    for operation in OPERATIONS
    for visibility in REGISTRIES
    for persona in PERSONAS
]


def test_matrix_size(capsys):
    with capsys.disabled():
        print(
            f"\nAPI permission matrix: {len(CELLS)} registry cells ({len(OPERATIONS)} "
            f"operations) and {len(ORG_CELLS)} organization and team cells "
            f"({len(ORG_OPERATIONS)} operations)"
        )
    assert len(CELLS) == len(OPERATIONS) * len(REGISTRIES) * len(PERSONAS)
    assert len(ORG_CELLS) == len(ORG_OPERATIONS) * len(PERSONAS)


@pytest.mark.parametrize(("operation", "persona", "visibility"), CELLS)
def test_matrix_cell(world, client, operation, persona, visibility):
    url = _url(world, operation, visibility)
    expected = expected_status(operation, persona, visibility)
    audit_before = AuditEvent.objects.count()
    body = _body(world, operation, visibility)

    response = getattr(client, operation.method)(
        url,
        data=json.dumps(body) if body is not None else None,
        content_type="application/json",
        headers=world.headers(persona),
    )

    assert response.status_code == expected, response.content
    if expected >= 400:
        error = response.json()["error"]
        assert error["message"]
        assert set(error) == {"code", "message", "field"}
    if expected == 404:
        assert response.json()["error"]["code"] == "not_found"
    if expected == 403:
        message = response.json()["error"]["message"]
        assert f"needs the {needed_role(operation, persona, visibility).label} role" in message
    written = AuditEvent.objects.count() - audit_before
    if operation.audited and expected < 300:
        assert written >= 1
    else:
        assert written == 0


# Organization and team operations ----------------------------------------------------------
#
# Creating a registry needs the org member or admin role; a team's projects and artifacts
# belong to its members, and writing to them needs the team's admin or member role. Only
# team_member (tina) is in ml-team.

ORG_WRITERS = ORG_MEMBERS - {"org_viewer"}


@dataclass(frozen=True)
class OrgOperation:
    name: str
    method: str
    path: str
    allowed: frozenset
    success: int
    body: dict | None = None
    audited: bool = False


TEAM = "/api/v1/orgs/acme/teams/ml-team/projects/"
ORG_OPERATIONS = [
    OrgOperation("list registries", "get", "/api/v1/orgs/acme/registries/", ORG_MEMBERS, 200),
    OrgOperation(
        "create registry",
        "post",
        "/api/v1/orgs/acme/registries/",
        ORG_WRITERS,
        201,
        {"name": "new-registry", "accepted_types": ["model"]},
        True,
    ),
    OrgOperation("read account", "get", "/api/v1/me/", ORG_MEMBERS | {"outsider"}, 200),
    OrgOperation("list own keys", "get", "/api/v1/me/api-keys/", ORG_MEMBERS | {"outsider"}, 200),
    OrgOperation("list projects", "get", TEAM, {"team_member"}, 200),
    OrgOperation("create project", "post", TEAM, {"team_member"}, 201, {"name": "churn"}),
    OrgOperation("list artifacts", "get", TEAM + "fraud/artifacts/", {"team_member"}, 200),
    OrgOperation(
        "list artifact versions",
        "get",
        TEAM + "fraud/artifacts/spare-model/versions/",
        {"team_member"},
        200,
    ),
    OrgOperation(
        "log artifact version",
        "post",
        TEAM + "fraud/artifacts/spare-model/versions/",
        {"team_member"},
        201,
        {"type": "model", "metadata": {"epochs": 3}},
        True,
    ),
]
ORG_CELLS = [
    pytest.param(operation, persona, id=f"{operation.name}-{persona}")
    for operation in ORG_OPERATIONS
    for persona in PERSONAS
]


@pytest.mark.parametrize(("operation", "persona"), ORG_CELLS)
def test_org_matrix_cell(world, client, operation, persona):
    if persona == "anonymous":
        expected = 401
    elif persona in operation.allowed:
        expected = operation.success
    elif operation.name == "create registry" and persona == "org_viewer":
        expected = 403
    else:
        expected = 404
    audit_before = AuditEvent.objects.count()

    response = getattr(client, operation.method)(
        operation.path,
        data=json.dumps(operation.body) if operation.body is not None else None,
        content_type="application/json",
        headers=world.headers(persona),
    )

    assert response.status_code == expected, response.content
    if expected >= 400:
        assert set(response.json()["error"]) == {"code", "message", "field"}
    written = AuditEvent.objects.count() - audit_before
    if operation.audited and expected < 300:
        assert written >= 1
    else:
        assert written == 0
