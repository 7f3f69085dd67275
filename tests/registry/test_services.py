"""The rules of the registry's write services: indices, `latest`, aliases, tags, audit rows."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from apps.audit.models import AuditEvent
from apps.registry import services
from apps.registry.models import Alias, Collection, CollectionLink, Tag
from tests.conftest import log_version


def aliases_of(collection) -> dict[str, int]:
    """Map each alias of the collection to the index of its link."""
    return {
        alias.name: alias.link.index
        for alias in Alias.objects.filter(collection=collection).select_related("link")
    }


def indices_of(collection) -> list[int]:
    return list(
        CollectionLink.objects.filter(collection=collection)
        .order_by("index")
        .values_list("index", flat=True)
    )


def new_events(since_id: int):
    return list(AuditEvent.objects.filter(pk__gt=since_id).order_by("pk"))


def last_event_id() -> int:
    last = AuditEvent.objects.order_by("-pk").first()
    return last.pk if last else 0


# Create collection --------------------------------------------------------------------------


def test_create_collection_writes_row_and_event(model_registry, member):
    before = last_event_id()

    collection = services.create_collection(
        registry=model_registry,
        name="Churn Model",
        type="model",
        description="Predicts churn.",
        tags=["tabular", "Prod"],
        actor=member,
    )

    stored = Collection.objects.get(pk=collection.pk)
    assert stored.name == "Churn Model"
    assert stored.type == "model"
    assert stored.description == "Predicts churn."
    assert stored.created_by == member
    assert sorted(stored.tags.values_list("name", flat=True)) == ["Prod", "tabular"]
    (event,) = new_events(before)
    assert event.action == "collection.created"
    assert event.actor == member
    assert event.collection_id == collection.pk
    assert event.registry_id == model_registry.pk
    assert event.target == "Churn Model"


def test_create_collection_duplicate_name_any_case(collection, member):
    before = last_event_id()

    with pytest.raises(ValidationError) as raised:
        services.create_collection(
            registry=collection.registry, name="FRAUD-DETECTOR", type="model", actor=member
        )

    assert "already exists" in raised.value.messages[0]
    assert Collection.objects.filter(name__iexact="fraud-detector").count() == 1
    assert new_events(before) == []


def test_create_collection_type_not_accepted(model_registry, member):
    with pytest.raises(ValidationError) as raised:
        services.create_collection(
            registry=model_registry, name="transactions", type="dataset", actor=member
        )

    message = raised.value.messages[0]
    assert "does not accept the type 'dataset'" in message
    assert "it accepts: model" in message
    assert not Collection.objects.filter(name="transactions").exists()


def test_create_collection_invalid_name(model_registry, member):
    with pytest.raises(ValidationError) as raised:
        services.create_collection(
            registry=model_registry, name="fraud/detector", type="model", actor=member
        )

    assert "contains '/'" in raised.value.messages[0]
    assert not Collection.objects.exists()


def test_create_collection_reuses_tags_any_case(model_registry, member):
    services.create_collection(
        registry=model_registry, name="a", type="model", tags=["Prod"], actor=member
    )
    services.create_collection(
        registry=model_registry, name="b", type="model", tags=["PROD"], actor=member
    )

    assert list(Tag.objects.values_list("name", flat=True)) == ["Prod"]


# Link ---------------------------------------------------------------------------------------


def test_link_indices_start_at_zero(linked):
    assert [link.index for link in linked] == [0, 1, 2]
    assert aliases_of(linked[0].collection) == {"champion": 1, "latest": 2}


def test_link_writes_one_event(collection, project, member):
    version = log_version(project, member)
    before = last_event_id()

    link = services.link_version(collection=collection, version=version, actor=member)

    (event,) = new_events(before)
    assert event.action == "version.linked"
    assert event.actor == member
    assert event.collection_id == collection.pk
    assert event.target == "fraud-detector:v0"
    assert event.data["index"] == 0
    assert event.data["source"] == version.source_path
    assert link.linked_by == member


def test_link_with_aliases_records_each(collection, project, member):
    version = log_version(project, member)
    before = last_event_id()

    link = services.link_version(
        collection=collection,
        version=version,
        aliases=["staging", "candidate"],
        actor=member,
    )

    actions = [(event.action, event.data.get("alias")) for event in new_events(before)]
    assert actions == [
        ("version.linked", None),
        ("alias.set", "staging"),
        ("alias.set", "candidate"),
    ]
    assert aliases_of(collection) == {"candidate": 0, "latest": 0, "staging": 0}
    assert link.index == 0


def test_link_moves_latest_to_new_index(linked, project, member):
    collection = linked[0].collection

    link = services.link_version(
        collection=collection, version=log_version(project, member), actor=member
    )

    assert link.index == 3
    assert aliases_of(collection)["latest"] == 3


def test_link_type_mismatch_names_both(collection, project, member):
    dataset = log_version(project, member, name="transactions", type="dataset")
    before = last_event_id()

    with pytest.raises(ValidationError) as raised:
        services.link_version(collection=collection, version=dataset, actor=member)

    message = raised.value.messages[0]
    assert "the type 'dataset'" in message
    assert "accepts only 'model'" in message
    assert not CollectionLink.objects.exists()
    assert new_events(before) == []


def test_relink_same_version_is_noop(linked, member):
    collection = linked[0].collection
    before = last_event_id()

    again = services.link_version(collection=collection, version=linked[1].version, actor=member)

    assert again.pk == linked[1].pk
    assert again.index == 1
    assert indices_of(collection) == [0, 1, 2]
    assert new_events(before) == []
    assert Collection.objects.get(pk=collection.pk).next_index == 3


def test_relink_same_version_adds_alias(linked, member):
    collection = linked[0].collection

    services.link_version(
        collection=collection, version=linked[0].version, aliases=["baseline"], actor=member
    )

    assert indices_of(collection) == [0, 1, 2]
    assert aliases_of(collection)["baseline"] == 0


def test_link_same_version_into_two_collections(linked, member):
    other = services.create_collection(
        registry=linked[0].collection.registry, name="fraud-v2", type="model", actor=member
    )

    link = services.link_version(collection=other, version=linked[2].version, actor=member)

    assert link.index == 0
    assert link.version_id == linked[2].version_id
    assert aliases_of(other) == {"latest": 0}


def test_link_explicit_index_keeps_gap(collection, project, member):
    first = services.link_version(
        collection=collection, version=log_version(project, member), index=3, actor=member
    )
    second = services.link_version(
        collection=collection, version=log_version(project, member), actor=member
    )

    assert first.index == 3
    assert second.index == 4
    assert aliases_of(collection) == {"latest": 4}


def test_link_explicit_index_taken(linked, project, member):
    with pytest.raises(ValidationError) as raised:
        services.link_version(
            collection=linked[0].collection,
            version=log_version(project, member),
            index=1,
            actor=member,
        )

    assert "v1 is already used" in raised.value.messages[0]
    assert indices_of(linked[0].collection) == [0, 1, 2]


def test_link_with_reserved_alias_writes_nothing(collection, project, member):
    with pytest.raises(ValidationError) as raised:
        services.link_version(
            collection=collection,
            version=log_version(project, member),
            aliases=["V4"],
            actor=member,
        )

    assert "is reserved" in raised.value.messages[0]
    assert not CollectionLink.objects.exists()


# Unlink -------------------------------------------------------------------------------------


def test_unlink_writes_one_event(linked, member):
    before = last_event_id()

    services.unlink_version(link=linked[1], actor=member)

    (event,) = new_events(before)
    assert event.action == "version.unlinked"
    assert event.actor == member
    assert event.target == "fraud-detector:v1"
    assert event.data["index"] == 1
    assert event.data["aliases"] == ["champion"]
    assert indices_of(linked[0].collection) == [0, 2]
    assert aliases_of(linked[0].collection) == {"latest": 2}


def test_unlink_top_moves_latest_down(linked, member):
    collection = linked[0].collection

    services.unlink_version(link=linked[2], actor=member)

    assert aliases_of(collection) == {"champion": 1, "latest": 1}
    services.unlink_version(link=linked[1], actor=member)
    assert aliases_of(collection) == {"latest": 0}


def test_unlink_lower_keeps_latest(linked, member):
    services.unlink_version(link=linked[0], actor=member)

    assert aliases_of(linked[0].collection) == {"champion": 1, "latest": 2}


def test_unlink_last_removes_latest(linked, member):
    collection = linked[0].collection

    for link in linked:
        services.unlink_version(link=link, actor=member)

    assert indices_of(collection) == []
    assert aliases_of(collection) == {}


def test_indices_never_reused(linked, project, member):
    collection = linked[0].collection
    services.unlink_version(link=linked[2], actor=member)

    after_top = services.link_version(
        collection=collection, version=log_version(project, member), actor=member
    )
    for link in CollectionLink.objects.filter(collection=collection):
        services.unlink_version(link=link, actor=member)
    after_all = services.link_version(
        collection=collection, version=log_version(project, member), actor=member
    )

    assert after_top.index == 3
    assert after_all.index == 4
    assert aliases_of(collection) == {"latest": 4}


def test_unlink_twice_writes_once(linked, member):
    before = last_event_id()

    services.unlink_version(link=linked[0], actor=member)
    services.unlink_version(link=linked[0], actor=member)

    assert [event.action for event in new_events(before)] == ["version.unlinked"]


def test_relink_after_unlink_gets_new_index(linked, member):
    collection = linked[0].collection
    version = linked[0].version
    services.unlink_version(link=linked[0], actor=member)

    again = services.link_version(collection=collection, version=version, actor=member)

    assert again.index == 3
    assert indices_of(collection) == [1, 2, 3]


# Aliases ------------------------------------------------------------------------------------


def test_set_alias_moves_it(linked, member):
    collection = linked[0].collection
    before = last_event_id()

    services.set_alias(link=linked[2], name="champion", actor=member)

    assert aliases_of(collection) == {"champion": 2, "latest": 2}
    assert Alias.objects.filter(collection=collection, name__iexact="champion").count() == 1
    (event,) = new_events(before)
    assert event.action == "alias.set"
    assert event.actor == member
    assert event.target == "fraud-detector:champion"
    assert event.data["alias"] == "champion"
    assert event.data["index"] == 2
    assert event.data["previous_index"] == 1


def test_set_alias_other_case_moves_it(linked, member):
    collection = linked[0].collection

    services.set_alias(link=linked[0], name="CHAMPION", actor=member)

    assert aliases_of(collection) == {"champion": 0, "latest": 2}


def test_set_new_alias_records_no_previous(linked, member):
    before = last_event_id()

    services.set_alias(link=linked[0], name="baseline", actor=member)

    (event,) = new_events(before)
    assert event.data["alias"] == "baseline"
    assert event.data["index"] == 0
    assert event.data["previous_index"] is None
    assert aliases_of(linked[0].collection)["baseline"] == 0


def test_set_alias_on_holder_is_noop(linked, member):
    before = last_event_id()

    services.set_alias(link=linked[1], name="champion", actor=member)

    assert new_events(before) == []
    assert aliases_of(linked[0].collection) == {"champion": 1, "latest": 2}


@pytest.mark.parametrize("name", ["latest", "LATEST", "Latest", "v0", "V2", "v007", "v10"])
def test_set_reserved_alias_rejected(linked, member, name):
    before = last_event_id()

    with pytest.raises(ValidationError) as raised:
        services.set_alias(link=linked[0], name=name, actor=member)

    assert f"The alias {name!r} is reserved" in raised.value.messages[0]
    assert aliases_of(linked[0].collection) == {"champion": 1, "latest": 2}
    assert new_events(before) == []


@pytest.mark.parametrize("name", ["two words", "a/b", "a:b", ""])
def test_set_invalid_alias_rejected(linked, member, name):
    with pytest.raises(ValidationError):
        services.set_alias(link=linked[0], name=name, actor=member)

    assert aliases_of(linked[0].collection) == {"champion": 1, "latest": 2}


def test_remove_alias_writes_event(linked, member):
    before = last_event_id()

    services.remove_alias(collection=linked[0].collection, name="Champion", actor=member)

    assert aliases_of(linked[0].collection) == {"latest": 2}
    (event,) = new_events(before)
    assert event.action == "alias.removed"
    assert event.data["alias"] == "champion"
    assert event.data["index"] == 1


def test_remove_latest_rejected(linked, member):
    with pytest.raises(ValidationError) as raised:
        services.remove_alias(collection=linked[0].collection, name="LATEST", actor=member)

    assert "'latest' is kept by the registry" in raised.value.messages[0]
    assert aliases_of(linked[0].collection) == {"champion": 1, "latest": 2}


def test_remove_unknown_alias(linked, member):
    with pytest.raises(ValidationError) as raised:
        services.remove_alias(collection=linked[0].collection, name="staging", actor=member)

    assert "has no alias 'staging'" in raised.value.messages[0]


# Tags and descriptions ----------------------------------------------------------------------


def test_add_tag_writes_event(collection, member):
    before = last_event_id()

    tag = services.add_tag(target=collection, name="fraud", actor=member)

    assert list(collection.tags.values_list("name", flat=True)) == ["fraud"]
    (event,) = new_events(before)
    assert event.action == "tag.added"
    assert event.target == "fraud-detector"
    assert event.data["tag"] == "fraud"
    assert tag.name == "fraud"


def test_add_tag_reuses_row_any_case(linked, member):
    collection = linked[0].collection

    services.add_tag(target=collection, name="Fraud", actor=member)
    services.add_tag(target=linked[1], name="FRAUD", actor=member)

    assert list(Tag.objects.values_list("name", flat=True)) == ["Fraud"]
    assert list(linked[1].tags.values_list("name", flat=True)) == ["Fraud"]


def test_add_tag_twice_writes_once(collection, member):
    before = last_event_id()

    services.add_tag(target=collection, name="fraud", actor=member)
    services.add_tag(target=collection, name="FRAUD", actor=member)

    assert [event.action for event in new_events(before)] == ["tag.added"]
    assert collection.tags.count() == 1


def test_add_tag_on_link(linked, member):
    before = last_event_id()

    services.add_tag(target=linked[2], name="reviewed", actor=member)

    (event,) = new_events(before)
    assert event.target == "fraud-detector:v2"
    assert event.collection_id == linked[2].collection_id
    assert list(linked[2].tags.values_list("name", flat=True)) == ["reviewed"]


@pytest.mark.parametrize("name", ["a.b", "two  spaces", " lead", ""])
def test_add_invalid_tag_rejected(collection, member, name):
    with pytest.raises(ValidationError):
        services.add_tag(target=collection, name=name, actor=member)

    assert not Tag.objects.exists()


def test_remove_tag_writes_event(collection, member):
    services.add_tag(target=collection, name="fraud", actor=member)
    before = last_event_id()

    services.remove_tag(target=collection, name="FRAUD", actor=member)

    assert collection.tags.count() == 0
    (event,) = new_events(before)
    assert event.action == "tag.removed"
    assert event.data["tag"] == "fraud"
    # The tag row stays for the organization's other objects.
    assert Tag.objects.filter(name="fraud").exists()


def test_remove_missing_tag(collection, member):
    with pytest.raises(ValidationError) as raised:
        services.remove_tag(target=collection, name="fraud", actor=member)

    assert "has no tag 'fraud'" in raised.value.messages[0]


def test_edit_description_writes_event(linked, member):
    collection = linked[0].collection
    before = last_event_id()

    services.edit_description(target=collection, text="New **text**", actor=member)
    services.edit_description(target=linked[1], text="Retrained", actor=member)

    assert Collection.objects.get(pk=collection.pk).description == "New **text**"
    assert CollectionLink.objects.get(pk=linked[1].pk).description == "Retrained"
    events = new_events(before)
    assert [event.action for event in events] == ["description.edited", "description.edited"]
    assert [event.target for event in events] == ["fraud-detector", "fraud-detector:v1"]


# Permissions --------------------------------------------------------------------------------


def snapshot(collection) -> dict:
    """Everything a denied write could have changed."""
    return {
        "events": AuditEvent.objects.count(),
        "collections": list(Collection.objects.order_by("pk").values_list("name", "description")),
        "links": list(
            CollectionLink.objects.order_by("pk").values_list("index", "description", "version")
        ),
        "aliases": aliases_of(collection),
        "tags": list(Tag.objects.values_list("name", flat=True)),
        "collection_tags": list(collection.tags.values_list("name", flat=True)),
    }


WRITES = {
    "create_collection": lambda linked, version, actor: services.create_collection(
        registry=linked[0].collection.registry, name="new", type="model", actor=actor
    ),
    "link_version": lambda linked, version, actor: services.link_version(
        collection=linked[0].collection, version=version, actor=actor
    ),
    "relink_with_alias": lambda linked, version, actor: services.link_version(
        collection=linked[0].collection,
        version=linked[0].version,
        aliases=["baseline"],
        actor=actor,
    ),
    "unlink_version": lambda linked, version, actor: services.unlink_version(
        link=linked[2], actor=actor
    ),
    "set_alias": lambda linked, version, actor: services.set_alias(
        link=linked[2], name="champion", actor=actor
    ),
    "remove_alias": lambda linked, version, actor: services.remove_alias(
        collection=linked[0].collection, name="champion", actor=actor
    ),
    "add_tag": lambda linked, version, actor: services.add_tag(
        target=linked[0].collection, name="fraud", actor=actor
    ),
    "remove_tag": lambda linked, version, actor: services.remove_tag(
        target=linked[0].collection, name="seed", actor=actor
    ),
    "edit_description": lambda linked, version, actor: services.edit_description(
        target=linked[0].collection, text="changed", actor=actor
    ),
    "edit_link_description": lambda linked, version, actor: services.edit_description(
        target=linked[1], text="changed", actor=actor
    ),
}


@pytest.mark.parametrize("persona", ["viewer", "outsider"])
@pytest.mark.parametrize("write", sorted(WRITES))
def test_write_denied_changes_nothing(request, linked, project, member, persona, write):
    collection = linked[0].collection
    services.add_tag(target=collection, name="seed", actor=member)
    version = log_version(project, member)
    actor = request.getfixturevalue(persona)
    before = snapshot(collection)

    with pytest.raises(PermissionDenied) as raised:
        WRITES[write](linked, version, actor)

    assert "needs the Member role" in str(raised.value)
    assert snapshot(collection) == before


@pytest.mark.parametrize("write", sorted(WRITES))
def test_write_allowed_for_org_admin(linked, project, member, org_admin, write):
    services.add_tag(target=linked[0].collection, name="seed", actor=member)
    version = log_version(project, member)
    before = last_event_id()

    WRITES[write](linked, version, org_admin)

    events = new_events(before)
    assert events
    assert {event.actor for event in events} == {org_admin}
