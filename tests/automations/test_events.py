"""Which events trigger which automations, and the payload variables each event fills in."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from apps.automations import services
from apps.automations.models import EventType, Execution
from apps.registry import services as registry_services
from tests.conftest import log_version

FULL_TEMPLATE = """{
  "event": {{ event_type }},
  "author": {{ author }},
  "organization": {{ organization }},
  "registry": {{ registry }},
  "collection": {{ collection }},
  "version": {{ version_path }},
  "index": {{ version_index }},
  "source": {{ source_path }},
  "alias": {{ alias }},
  "tag": {{ tag }},
  "auc": {{ metadata.auc }},
  "missing": {{ metadata.nope }},
  "text": "{{ collection }}:v{{ version_index }} auc={{ metadata.auc }} by {{ author }}"
}"""


@pytest.fixture
def deliver(django_capture_on_commit_callbacks):
    """Run a registry write and deliver what it triggers; return the bodies received."""

    def run(write, receiver):
        before = len(receiver.requests)
        with django_capture_on_commit_callbacks(execute=True):
            write()
        return [request.json() for request in receiver.requests[before:]]

    return run


@pytest.fixture
def linked_v0(collection, project, member):
    version = log_version(project, member, metadata={"auc": 0.91, "note": 'say "hi"'})
    return registry_services.link_version(collection=collection, version=version, actor=member)


def test_linked_payload_variables(make_automation, collection, project, member, receiver, deliver):
    make_automation(payload_template=FULL_TEMPLATE)
    version = log_version(project, member, metadata={"auc": 0.91})

    (body,) = deliver(
        lambda: registry_services.link_version(
            collection=collection, version=version, actor=member
        ),
        receiver,
    )

    assert body == {
        "event": "version.linked",
        "author": "mike",
        "organization": "acme",
        "registry": "model",
        "collection": "fraud-detector",
        "version": "acme/wandb-registry-model/fraud-detector:v0",
        "index": 0,
        "source": version.source_path,
        "alias": None,
        "tag": None,
        "auc": 0.91,
        "missing": None,
        "text": "fraud-detector:v0 auc=0.91 by mike",
    }


def test_string_values_escaped(make_automation, linked_v0, member, receiver, deliver):
    make_automation(
        event_type=EventType.TAG_ADDED,
        payload_template='{"note": {{ metadata.note }}, "line": "note: {{ metadata.note }}"}',
    )

    (body,) = deliver(
        lambda: registry_services.add_tag(target=linked_v0, name="candidate", actor=member),
        receiver,
    )

    assert body == {"note": 'say "hi"', "line": 'note: say "hi"'}


def test_alias_pattern_filters_aliases(make_automation, linked_v0, member, receiver, deliver):
    make_automation(event_type=EventType.ALIAS_ADDED, alias_pattern="^prod")

    matched = deliver(
        lambda: registry_services.set_alias(link=linked_v0, name="production", actor=member),
        receiver,
    )
    ignored = deliver(
        lambda: registry_services.set_alias(link=linked_v0, name="staging", actor=member),
        receiver,
    )

    assert [body["alias"] for body in matched] == ["production"]
    assert [body["event"] for body in matched] == ["alias.added"]
    assert ignored == []


def test_alias_moved_fires_again(
    make_automation, linked_v0, collection, project, member, receiver, deliver
):
    make_automation(event_type=EventType.ALIAS_ADDED)
    registry_services.set_alias(link=linked_v0, name="champion", actor=member)
    second = registry_services.link_version(
        collection=collection, version=log_version(project, member), actor=member
    )

    (body,) = deliver(
        lambda: registry_services.set_alias(link=second, name="champion", actor=member),
        receiver,
    )

    assert body["version"] == "acme/wandb-registry-model/fraud-detector:v1"


def test_tag_events_on_version_and_collection(
    make_automation, linked_v0, collection, member, receiver, deliver
):
    make_automation(name="tags-added", event_type=EventType.TAG_ADDED)
    make_automation(name="tags-removed", event_type=EventType.TAG_REMOVED)

    on_version = deliver(
        lambda: registry_services.add_tag(target=linked_v0, name="nightly", actor=member),
        receiver,
    )
    on_collection = deliver(
        lambda: registry_services.add_tag(target=collection, name="fraud", actor=member),
        receiver,
    )
    removed = deliver(
        lambda: registry_services.remove_tag(target=linked_v0, name="nightly", actor=member),
        receiver,
    )

    assert [(b["event"], b["tag"], b["version"]) for b in on_version] == [
        ("tag.added", "nightly", "acme/wandb-registry-model/fraud-detector:v0")
    ]
    assert [(b["event"], b["tag"], b["version"]) for b in on_collection] == [
        ("tag.added", "fraud", None)
    ]
    assert [(b["event"], b["tag"]) for b in removed] == [("tag.removed", "nightly")]


def test_unlink_payload_has_metadata(make_automation, linked_v0, member, receiver, deliver):
    make_automation(
        event_type=EventType.VERSION_UNLINKED,
        payload_template='{"event": {{ event_type }}, "version": {{ version_path }}, '
        '"auc": {{ metadata.auc }}}',
    )

    (body,) = deliver(
        lambda: registry_services.unlink_version(link=linked_v0, actor=member), receiver
    )

    assert body == {
        "event": "version.unlinked",
        "version": "acme/wandb-registry-model/fraud-detector:v0",
        "auc": 0.91,
    }


def test_registry_scope_covers_new_collections(
    make_automation, model_registry, project, member, receiver, deliver
):
    make_automation()
    later = registry_services.create_collection(
        registry=model_registry, name="created-later", type="model", actor=member
    )

    (body,) = deliver(
        lambda: registry_services.link_version(
            collection=later, version=log_version(project, member), actor=member
        ),
        receiver,
    )

    assert body["collection"] == "created-later"


def test_collection_scope_ignores_others(
    make_automation, model_registry, collection, project, member, receiver, deliver
):
    make_automation(collection=collection)
    other = registry_services.create_collection(
        registry=model_registry, name="other-model", type="model", actor=member
    )

    ignored = deliver(
        lambda: registry_services.link_version(
            collection=other, version=log_version(project, member), actor=member
        ),
        receiver,
    )
    matched = deliver(
        lambda: registry_services.link_version(
            collection=collection, version=log_version(project, member), actor=member
        ),
        receiver,
    )

    assert ignored == []
    assert [body["collection"] for body in matched] == ["fraud-detector"]


def test_other_event_types_ignored(make_automation, linked_v0, member, receiver, deliver):
    make_automation(event_type=EventType.VERSION_UNLINKED)

    bodies = deliver(
        lambda: registry_services.set_alias(link=linked_v0, name="production", actor=member),
        receiver,
    )

    assert bodies == []
    assert Execution.objects.count() == 0


def test_two_automations_two_executions(make_automation, linked_v0, member, receiver, deliver):
    make_automation(name="first", event_type=EventType.ALIAS_ADDED)
    make_automation(name="second", event_type=EventType.ALIAS_ADDED, alias_pattern="prod")

    bodies = deliver(
        lambda: registry_services.set_alias(link=linked_v0, name="production", actor=member),
        receiver,
    )

    assert len(bodies) == 2
    assert sorted(Execution.objects.values_list("automation__name", flat=True)) == [
        "first",
        "second",
    ]


# Rules of the automation services -----------------------------------------------------------


def test_viewer_cannot_create(model_registry, integration, viewer):
    with pytest.raises(PermissionDenied) as raised:
        services.create_automation(
            registry=model_registry,
            name="nope",
            event_type=EventType.VERSION_LINKED,
            integration=integration,
            actor=viewer,
        )

    assert "needs the Member role" in str(raised.value)


def test_duplicate_name_rejected(make_automation):
    make_automation(name="notify")

    with pytest.raises(ValidationError) as raised:
        make_automation(name="NOTIFY")

    assert "already has an automation named 'NOTIFY'" in raised.value.messages[0]


def test_nested_repetition_pattern_rejected(make_automation):
    with pytest.raises(ValidationError) as raised:
        make_automation(event_type=EventType.ALIAS_ADDED, alias_pattern="^(a+)+$")

    assert "exponential time" in raised.value.messages[0]


def test_invalid_pattern_rejected(make_automation):
    with pytest.raises(ValidationError) as raised:
        make_automation(event_type=EventType.ALIAS_ADDED, alias_pattern="prod(")

    assert "not a valid regular expression at position 5" in raised.value.messages[0]


def test_unknown_variable_rejected(make_automation):
    with pytest.raises(ValidationError) as raised:
        make_automation(payload_template='{\n  "who": {{ autor }}\n}')

    message = raised.value.messages[0]
    assert message.startswith("The payload template is not valid at line 2, column 10:")
    assert "'autor' is not a variable" in message


def test_collection_of_other_registry_rejected(make_automation, org, org_admin):
    from apps.registry.models import Registry

    dataset = Registry.objects.get(organization=org, name="dataset")
    foreign = registry_services.create_collection(
        registry=dataset, name="images", type="dataset", actor=org_admin
    )

    with pytest.raises(ValidationError) as raised:
        make_automation(collection=foreign)

    assert "is not in the registry 'model'" in raised.value.messages[0]


def test_automation_audited(make_automation, member):
    from apps.audit.models import AuditEvent

    automation = make_automation(name="audited")
    services.delete_automation(automation=automation, actor=member)

    actions = list(
        AuditEvent.objects.filter(action__startswith="automation.")
        .order_by("pk")
        .values_list("action", "target", "actor__username")
    )
    assert actions == [
        ("automation.created", "audited", "mike"),
        ("automation.deleted", "audited", "mike"),
    ]
