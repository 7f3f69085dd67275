"""schemathesis over the whole OpenAPI schema, as an Admin, a Member, a Viewer and an outsider.

Each operation gets a few derandomized examples per persona: half of them aim at the real
objects of the test world (so the handlers run past their lookups), the rest are free-form.
Every response must be no server error and must match the schema: status code, content
type, headers and body. Each example runs in a savepoint that is rolled back, so examples
do not depend on each other.
"""

import json

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

pytestmark = pytest.mark.django_db

EXAMPLES_PER_OPERATION = 5
FUZZ_PERSONAS = ["admin", "member", "viewer", "outsider"]
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def _load_schema():
    document = SchemaGenerator().get_schema(request=None, public=True)
    return schemathesis.openapi.from_dict(json.loads(OpenApiJsonRenderer().render(document)))


SCHEMA = _load_schema()
OPERATIONS = {
    operation.label: operation
    for operation in (result.ok() for result in SCHEMA.get_all_operations())
}
APP = get_wsgi_application()


def _real_path_parameters(world, operation) -> dict:
    """Path parameters naming existing objects: the Organization registry and its content."""
    source = world.versions["organization"][0]
    values = {
        "org": "acme",
        "registry": world.registries["organization"].name,
        "collection": "fraud-detector",
        "index": 0,
        "alias": "champion",
        "member": "rita",
        "team": "ml-team",
        "project": "fraud",
        "artifact": source.artifact.name,
        "id": source.pk,
        "file_id": source.files.get().pk,
    }
    if "/members/teams/" in operation.path:
        values["member"] = "ml-team"
    if "/protected-aliases/" in operation.path:
        values["alias"] = "production"
    if operation.path.startswith("/api/v1/me/api-keys/"):
        values["id"] = world.key_ids["admin"]
    if operation.path.startswith("/api/v1/me/notices/"):
        values["id"] = world.notice_ids["dismissible"]
    names = {parameter.name for parameter in operation.path_parameters}
    return {name: value for name, value in values.items() if name in names}


@pytest.fixture(autouse=True)
def _keep_test_connection():
    """Keep the test's database connection open across WSGI requests.

    The WSGI handler closes connections when a request ends, which would drop the test's
    transaction on PostgreSQL. Django's test client turns this off the same way.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def test_schema_size(capsys):
    with capsys.disabled():
        print(
            f"\nFuzzing {len(OPERATIONS)} operations x {len(FUZZ_PERSONAS)} personas x "
            f"up to {EXAMPLES_PER_OPERATION} examples"
        )
    assert len(OPERATIONS) >= 45


@pytest.mark.parametrize("persona", FUZZ_PERSONAS)
@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_operation_conforms(world, label, persona):
    operation = OPERATIONS[label]
    strategy = st.one_of(
        operation.as_strategy(path_parameters=_real_path_parameters(world, operation)),
        operation.as_strategy(),
    )
    headers = world.headers(persona)

    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case):
        with transaction.atomic():
            response = case.call(app=APP, headers=headers)
            case.validate_response(response, checks=CHECKS, headers=headers)
            transaction.set_rollback(True)

    run()
