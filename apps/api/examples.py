"""Request and response examples shown in the OpenAPI schema and the docs page.

The names (organization `acme`, registry `model`, collection `fraud-detector`, team
`fraud-team`) match the demo data, so an example can be tried as it is.
"""

from drf_spectacular.utils import OpenApiExample

_TIME = "2026-11-02T09:30:00Z"
_SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
_DIGEST = "3a6eb0790f39ac87c94f3856b2dd2c5d110e6811602261a9a923d3bb23adc8b7"


def _request(name: str, value) -> OpenApiExample:
    return OpenApiExample(name, value=value, request_only=True)


def _response(name: str, value, status_codes=("200", "201")) -> OpenApiExample:
    return OpenApiExample(name, value=value, response_only=True, status_codes=list(status_codes))


_REGISTRY = {
    "id": 1,
    "organization": "acme",
    "name": "model",
    "path_name": "wandb-registry-model",
    "description": "Models the organization publishes for others to use.",
    "visibility": "organization",
    "is_core": True,
    "accepts_all_types": False,
    "accepted_types": ["model"],
    "owner": None,
    "protected_aliases": ["production"],
    "collection_count": 4,
    "starred": False,
    "role": "member",
    "created_at": _TIME,
    "updated_at": _TIME,
}
REGISTRY_RESPONSE = _response("Registry", _REGISTRY)
REGISTRY_CREATE = _request(
    "New registry",
    {
        "name": "experiments",
        "description": "Candidate models before review.",
        "visibility": "restricted",
        "accepted_types": ["model", "dataset"],
    },
)
REGISTRY_UPDATE = _request(
    "Rename and widen",
    {
        "name": "experiments-2026",
        "accepted_types": ["model", "dataset", "eval-report"],
        "visibility": "organization",
        "confirm_visibility": True,
    },
)
OWNER_SET = _request("Owner", {"user": "mike"})

_MEMBER = {
    "kind": "user",
    "name": "mike",
    "granted_role": "viewer",
    "effective_role": "member",
    "effective_source": "team fraud-team",
    "sources": [
        {"role": "viewer", "source": "direct"},
        {"role": "member", "source": "team fraud-team"},
    ],
    "is_owner": False,
}
MEMBER_RESPONSE = _response("Member", _MEMBER)
MEMBER_LIST = _response("Members", [_MEMBER])
MEMBER_ADD = _request("Add a team", {"team": "fraud-team", "role": "member"})
MEMBER_ROLE = _request("New role", {"role": "admin"})
PROTECTED_ALIAS = OpenApiExample("Protected alias", value={"name": "production"})
PROTECTED_ALIAS_LIST = _response("Protected aliases", [{"name": "production"}])

_EVENT = {
    "id": 42,
    "action": "version.linked",
    "actor": "mike",
    "target": "fraud-detector:v3",
    "data": {"index": 3, "source": "fraud-team/fraud/fraud-detector:v7"},
    "created_at": _TIME,
}
ACTIVITY_RESPONSE = _response("Event", _EVENT)
HISTORY_RESPONSE = _response("Link event", _EVENT)

_COLLECTION = {
    "id": 7,
    "organization": "acme",
    "registry": "model",
    "name": "fraud-detector",
    "path": "acme/wandb-registry-model/fraud-detector",
    "type": "model",
    "description": "Card **fraud** classifier.",
    "tags": ["payments"],
    "aliases": [{"name": "latest", "index": 3}, {"name": "production", "index": 2}],
    "version_count": 4,
    "created_by": "mike",
    "created_at": _TIME,
    "updated_at": _TIME,
}
COLLECTION_RESPONSE = _response("Collection", _COLLECTION)
COLLECTION_CREATE = _request(
    "New collection",
    {"name": "churn-model", "type": "model", "description": "Churn score.", "tags": ["crm"]},
)
DESCRIBE = _request(
    "Description and tags", {"description": "Approved for EU traffic.", "tags": ["payments", "eu"]}
)

_SOURCE = {
    "id": 31,
    "path": "fraud-team/fraud/fraud-detector:v7",
    "type": "model",
    "digest": _DIGEST,
    "created_at": _TIME,
}
_FILE = {
    "id": 88,
    "path": "model.pkl",
    "size": 4,
    "sha256": _SHA,
    "md5": "CY9rzUYh03PK3k6DJie09g==",
    "uploaded": True,
}
_LINK = {
    "index": 3,
    "version": "v3",
    "path": "acme/wandb-registry-model/fraud-detector:v3",
    "aliases": ["latest"],
    "tags": [],
    "description": "",
    "source": _SOURCE,
    "linked_by": "mike",
    "linked_at": _TIME,
}
LINK_RESPONSE = _response("Linked version", _LINK)
LINK_DETAIL_RESPONSE = _response(
    "Linked version with files", {**_LINK, "metadata": {"auc": 0.93}, "files": [_FILE]}
)
LINK_CREATE = _request(
    "Link by source path",
    {"source_path": "fraud-team/fraud/fraud-detector:v7", "aliases": ["staging"]},
)
ALIAS_LIST = _response("Aliases", [{"name": "latest", "index": 3}, {"name": "staging", "index": 3}])
ALIAS_SET = _request("Point at v2", {"index": 2})
ALIAS_RESPONSE = _response("Alias", {"name": "staging", "index": 2})

PROJECT_RESPONSE = _response(
    "Project", {"id": 5, "team": "fraud-team", "name": "fraud", "created_at": _TIME}
)
PROJECT_CREATE = _request("New project", {"name": "fraud"})
ARTIFACT_RESPONSE = _response(
    "Artifact",
    {
        "id": 12,
        "project": "fraud",
        "name": "fraud-detector",
        "type": "model",
        "version_count": 8,
        "created_at": _TIME,
    },
)
_ARTIFACT_VERSION = {
    "id": 31,
    "team": "fraud-team",
    "project": "fraud",
    "artifact": "fraud-detector",
    "type": "model",
    "version": "v7",
    "path": "fraud-team/fraud/fraud-detector:v7",
    "digest": _DIGEST,
    "metadata": {"auc": 0.93},
    "description": "",
    "produced_by": "run-2x8f",
    "created_by": "mike",
    "created_at": _TIME,
    "files": [_FILE],
}
ARTIFACT_VERSION_RESPONSE = _response("Artifact version", _ARTIFACT_VERSION)
ARTIFACT_VERSION_CREATE = _request(
    "New version",
    {
        "type": "model",
        "metadata": {"auc": 0.93},
        "files": [{"path": "model.pkl", "size": 4, "sha256": _SHA}],
        "run_id": "run-2x8f",
    },
)
FILE_RESPONSE = _response("Uploaded file", _FILE)
SIGNED_URL_RESPONSE = _response(
    "Signed URL",
    {
        "url": "https://registry.example.com/api/v1/files/signed/eyJmaWxlIjo4OH0:1u2v3w/",
        "expires_at": "2026-11-02T09:45:00Z",
    },
)

RESOLVE_PATH_EXAMPLE = OpenApiExample(
    "Short path with alias", value="wandb-registry-model/Fraud-Detector:production"
)
RESOLVE_LEGACY_PATH_EXAMPLE = OpenApiExample(
    "Legacy path", value="fraud-team/model-registry/fraud-detector:champion"
)
RESOLVE_RESPONSE = _response(
    "Registry version",
    {
        "kind": "registry",
        "path": "acme/wandb-registry-model/fraud-detector:v2",
        "requested_path": "wandb-registry-model/Fraud-Detector:production",
        "organization": "acme",
        "registry": "model",
        "collection": "fraud-detector",
        "index": 2,
        "version": "v2",
        "aliases": ["production"],
        "tags": [],
        "description": "",
        "source": _SOURCE,
        "linked_by": "mike",
        "linked_at": _TIME,
        "deprecation": None,
    },
)
RESOLVE_LEGACY_RESPONSE = _response(
    "Legacy version before the migration",
    {
        "kind": "legacy",
        "path": "fraud-team/model-registry/fraud-detector:v1",
        "requested_path": "fraud-team/model-registry/fraud-detector:champion",
        "organization": "acme",
        "team": "fraud-team",
        "registered_model": "fraud-detector",
        "index": 1,
        "version": "v1",
        "aliases": ["champion"],
        "tags": [],
        "description": "",
        "source": _SOURCE,
        "linked_by": "mike",
        "linked_at": _TIME,
        "deprecation": None,
    },
)
RESOLVE_MIGRATED_RESPONSE = _response(
    "Legacy path after the migration",
    {
        "kind": "registry",
        "path": "acme/wandb-registry-fraud-team/fraud-detector:v1",
        "requested_path": "fraud-team/model-registry/fraud-detector:champion",
        "organization": "acme",
        "registry": "fraud-team",
        "collection": "fraud-detector",
        "index": 1,
        "version": "v1",
        "aliases": ["champion"],
        "tags": [],
        "description": "",
        "source": _SOURCE,
        "linked_by": "mike",
        "linked_at": _TIME,
        "deprecation": {
            "message": (
                "The legacy path fraud-team/model-registry/fraud-detector:champion is "
                "deprecated: its registered model was migrated, so use "
                "acme/wandb-registry-fraud-team/fraud-detector:champion instead."
            ),
            "successor_path": "acme/wandb-registry-fraud-team/fraud-detector:champion",
            "deprecated_since": _TIME,
        },
    },
)

ME_RESPONSE = _response(
    "Account",
    {
        "id": 3,
        "username": "mike",
        "email": "mike@example.com",
        "is_service_account": False,
        "organizations": [{"name": "acme", "display_name": "Acme Corp", "role": "member"}],
        "teams": [{"organization": "acme", "name": "fraud-team", "role": "member"}],
    },
)
_API_KEY = {
    "id": 4,
    "name": "CI",
    "prefix": "reg-Xq3Xq3Xq",
    "created_at": _TIME,
    "last_used_at": None,
    "revoked_at": None,
}
API_KEY_RESPONSE = _response("API key", _API_KEY)
API_KEY_CREATE = _request("New key", {"name": "CI"})
API_KEY_CREATED = _response(
    "Created key",
    {**_API_KEY, "key": "reg-" + "Xq3" * 16},
    status_codes=["201"],
)
