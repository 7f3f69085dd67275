"""The write services of the legacy Model Registry: rules, history rows and audit rows."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from apps.audit.models import AuditEvent
from apps.legacy import services
from apps.legacy.models import LegacyAlias, LegacyEvent, LegacyVersion, RegisteredModel
from apps.orgs import services as org_services
from apps.registry import services as registry_services
from tests.conftest import log_version


def aliases_of(model):
    return {a.name: a.version.index for a in LegacyAlias.objects.filter(model=model)}


def last_event(model):
    return LegacyEvent.objects.filter(model=model).order_by("-id").first()


def test_create_model_records_history_and_audit(legacy_registry, member, org):
    model = services.create_registered_model(
        legacy_registry=legacy_registry,
        name="Churn Model",
        description="Who leaves.",
        tags=["tabular", "nightly-build"],
        actor=member,
    )

    assert model.name == "Churn Model"
    assert sorted(model.tags.values_list("name", flat=True)) == ["nightly-build", "tabular"]
    event = last_event(model)
    assert event.action == "model.created"
    assert event.actor == member
    audit = AuditEvent.objects.get(action="legacy.model.created")
    assert audit.organization == org
    assert audit.target == "fraud-team/model-registry/Churn Model"
    assert audit.data["model"] == model.pk


def test_create_model_name_taken_any_case(registered_model, legacy_registry, member):
    with pytest.raises(ValidationError) as raised:
        services.create_registered_model(
            legacy_registry=legacy_registry, name="FRAUD-detector", actor=member
        )

    assert "already exists" in raised.value.messages[0]
    assert RegisteredModel.objects.count() == 1


def test_create_model_invalid_name_names_character(legacy_registry, member):
    with pytest.raises(ValidationError) as raised:
        services.create_registered_model(
            legacy_registry=legacy_registry, name="spam-filter#2", actor=member
        )

    assert "'#'" in raised.value.messages[0]


def test_link_hands_out_next_indices_and_latest(legacy_versions, registered_model):
    assert [v.index for v in legacy_versions] == [0, 1, 2]
    assert aliases_of(registered_model) == {"champion": 1, "latest": 2}
    registered_model.refresh_from_db()
    assert registered_model.next_index == 3


def test_link_records_history_with_source(registered_model, project, member):
    source = log_version(project, member)

    linked = services.link_version(
        model=registered_model, version=source, aliases=["staging"], actor=member
    )

    actions = list(
        LegacyEvent.objects.filter(model=registered_model)
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["model.created", "version.linked", "alias.set"]
    linked_event = LegacyEvent.objects.get(model=registered_model, action="version.linked")
    assert linked_event.data == {"index": 0, "source": source.source_path}
    assert linked.linked_by == member
    assert AuditEvent.objects.filter(
        action="legacy.version.linked", target="fraud-team/model-registry/fraud-detector:v0"
    ).exists()


def test_link_same_version_twice_adds_aliases_only(legacy_versions, registered_model, member):
    again = services.link_version(
        model=registered_model,
        version=legacy_versions[0].version,
        aliases=["baseline"],
        actor=member,
    )

    assert again == legacy_versions[0]
    assert LegacyVersion.objects.filter(model=registered_model).count() == 3
    assert aliases_of(registered_model)["baseline"] == 0


def test_link_explicit_indices_keep_gaps(registered_model, project, member):
    for number in (1, 2, 4):
        services.link_version(
            model=registered_model,
            version=log_version(project, member),
            index=number,
            actor=member,
        )
    services.reserve_index(model=registered_model, index=6, actor=member)

    following = services.link_version(
        model=registered_model, version=log_version(project, member), actor=member
    )

    indices = sorted(registered_model.versions.values_list("index", flat=True))
    assert indices == [1, 2, 4, 7]
    assert following.index == 7
    assert LegacyEvent.objects.filter(
        model=registered_model, action="index.reserved", data__index=6
    ).exists()


def test_link_explicit_index_below_next_rejected(
    legacy_versions, registered_model, project, member
):
    services.unlink_version(legacy_version=legacy_versions[2], actor=member)

    with pytest.raises(ValidationError) as raised:
        services.link_version(
            model=registered_model,
            version=log_version(project, member),
            index=2,
            actor=member,
        )

    assert "never reused" in raised.value.messages[0]
    assert "v3" in raised.value.messages[0]


def test_link_rejects_other_teams_version(registered_model, other_team, stranger, member):
    foreign_project = registry_services.get_or_create_project(
        team=other_team, name="nlp", actor=stranger
    )

    with pytest.raises(ValidationError) as raised:
        services.link_version(
            model=registered_model, version=log_version(foreign_project, stranger), actor=member
        )

    assert "belongs to another team" in raised.value.messages[0]
    assert not registered_model.versions.exists()


def test_link_rejects_dataset_version(registered_model, project, member):
    dataset = log_version(project, member, name="transactions", type="dataset")

    with pytest.raises(ValidationError) as raised:
        services.link_version(model=registered_model, version=dataset, actor=member)

    assert "holds only 'model' versions" in raised.value.messages[0]


def test_unlink_never_reuses_index(legacy_versions, registered_model, project, member):
    services.unlink_version(legacy_version=legacy_versions[2], actor=member)

    assert aliases_of(registered_model) == {"champion": 1, "latest": 1}
    event = last_event(registered_model)
    assert event.action == "version.unlinked"
    assert event.data == {"index": 2, "aliases": []}

    relinked = services.link_version(
        model=registered_model, version=log_version(project, member), actor=member
    )
    assert relinked.index == 3


def test_unlink_last_version_drops_latest(registered_model, project, member):
    only = services.link_version(
        model=registered_model, version=log_version(project, member), actor=member
    )

    services.unlink_version(legacy_version=only, actor=member)

    assert aliases_of(registered_model) == {}


def test_set_alias_moves_it(legacy_versions, registered_model, member):
    services.set_alias(legacy_version=legacy_versions[2], name="champion", actor=member)

    assert aliases_of(registered_model)["champion"] == 2
    event = last_event(registered_model)
    assert event.action == "alias.set"
    assert event.data == {"alias": "champion", "index": 2, "previous_index": 1}


@pytest.mark.parametrize("name", ["latest", "v3", "V12", "has space", "a/b"])
def test_set_alias_rejects_reserved_and_invalid(legacy_versions, member, name):
    with pytest.raises(ValidationError):
        services.set_alias(legacy_version=legacy_versions[0], name=name, actor=member)


def test_remove_alias_records_history(legacy_versions, registered_model, member):
    services.remove_alias(model=registered_model, name="CHAMPION", actor=member)

    assert "champion" not in aliases_of(registered_model)
    assert last_event(registered_model).data == {"alias": "champion", "index": 1}


def test_remove_latest_rejected(legacy_versions, registered_model, member):
    with pytest.raises(ValidationError) as raised:
        services.remove_alias(model=registered_model, name="latest", actor=member)

    assert "kept by the registry" in raised.value.messages[0]


def test_protected_alias_needs_admin(legacy_versions, registered_model, legacy_registry, member):
    with pytest.raises(PermissionDenied):
        services.add_protected_alias(legacy_registry=legacy_registry, name="prod", actor=member)


def test_protected_alias_rules(
    legacy_versions, registered_model, legacy_registry, member, team_admin
):
    services.add_protected_alias(legacy_registry=legacy_registry, name="prod", actor=team_admin)
    assert AuditEvent.objects.filter(
        action="legacy.protected_alias.added", data__alias="prod"
    ).exists()

    with pytest.raises(PermissionDenied) as raised:
        services.set_alias(legacy_version=legacy_versions[0], name="Prod", actor=member)
    assert "protected alias Prod" in str(raised.value)

    services.set_alias(legacy_version=legacy_versions[0], name="prod", actor=team_admin)
    assert aliases_of(registered_model)["prod"] == 0

    with pytest.raises(PermissionDenied):
        services.unlink_version(legacy_version=legacy_versions[0], actor=member)
    with pytest.raises(PermissionDenied):
        services.remove_alias(model=registered_model, name="prod", actor=member)
    assert aliases_of(registered_model)["prod"] == 0


def test_registry_admin_manages_protected_aliases(
    legacy_versions, registered_model, legacy_registry, member, team_admin
):
    services.add_registry_admin(legacy_registry=legacy_registry, user=member, actor=team_admin)

    services.add_protected_alias(legacy_registry=legacy_registry, name="prod", actor=member)
    services.set_alias(legacy_version=legacy_versions[1], name="prod", actor=member)
    services.remove_protected_alias(legacy_registry=legacy_registry, name="PROD", actor=member)

    assert aliases_of(registered_model)["prod"] == 1
    assert not legacy_registry.protected_aliases.exists()
    assert AuditEvent.objects.filter(action="legacy.admin.added", data__user="mike").exists()


def test_registry_admin_only_from_team(legacy_registry, team_admin, stranger, member):
    with pytest.raises(ValidationError) as raised:
        services.add_registry_admin(
            legacy_registry=legacy_registry, user=stranger, actor=team_admin
        )
    assert "not in the team" in raised.value.messages[0]

    with pytest.raises(PermissionDenied):
        services.add_registry_admin(legacy_registry=legacy_registry, user=member, actor=member)


def test_tags_on_model_and_version(legacy_versions, registered_model, member):
    services.add_tag(target=registered_model, name="fraud", actor=member)
    services.add_tag(target=legacy_versions[1], name="Nightly Build", actor=member)
    services.add_tag(target=legacy_versions[1], name="nightly build", actor=member)

    assert list(registered_model.tags.values_list("name", flat=True)) == ["fraud"]
    assert list(legacy_versions[1].tags.values_list("name", flat=True)) == ["Nightly Build"]
    added = LegacyEvent.objects.filter(model=registered_model, action="tag.added")
    assert list(added.order_by("id").values_list("data", flat=True)) == [
        {"tag": "fraud", "on": "model"},
        {"tag": "Nightly Build", "on": "v1"},
    ]

    services.remove_tag(target=legacy_versions[1], name="NIGHTLY BUILD", actor=member)
    assert not legacy_versions[1].tags.exists()
    assert last_event(registered_model).data == {"tag": "Nightly Build", "on": "v1"}

    with pytest.raises(ValidationError) as raised:
        services.remove_tag(target=registered_model, name="absent", actor=member)
    assert "fraud-team/model-registry/fraud-detector has no tag 'absent'" in str(raised.value)


def test_tag_rules_apply(registered_model, member):
    with pytest.raises(ValidationError) as raised:
        services.add_tag(target=registered_model, name="a  b", actor=member)

    assert "double space" in raised.value.messages[0]


def test_edit_descriptions(legacy_versions, registered_model, member):
    services.edit_description(target=registered_model, text="# Fraud\n\nNew card.", actor=member)
    services.edit_description(target=legacy_versions[0], text="Baseline.", actor=member)

    registered_model.refresh_from_db()
    legacy_versions[0].refresh_from_db()
    assert registered_model.description == "# Fraud\n\nNew card."
    assert legacy_versions[0].description == "Baseline."
    edited = LegacyEvent.objects.filter(model=registered_model, action="description.edited")
    assert [e.data["on"] for e in edited.order_by("id")] == ["model", "v0"]


def test_team_viewer_cannot_write(legacy_versions, registered_model, team_viewer):
    with pytest.raises(PermissionDenied) as raised:
        services.set_alias(legacy_version=legacy_versions[0], name="staging", actor=team_viewer)

    assert "needs the team's member or admin role" in str(raised.value)


@pytest.mark.parametrize("who", ["stranger", "support", "org_admin"])
def test_outside_team_cannot_write(request, registered_model, who):
    actor = request.getfixturevalue(who)

    with pytest.raises(PermissionDenied):
        services.add_tag(target=registered_model, name="fraud", actor=actor)

    assert not registered_model.tags.exists()


def test_team_admin_writes(registered_model, team_admin):
    services.add_tag(target=registered_model, name="fraud", actor=team_admin)

    assert last_event(registered_model).actor == team_admin


def test_removed_member_loses_write(registered_model, team, member):
    org_services.remove_team_member(team=team, user=member)

    with pytest.raises(PermissionDenied):
        services.add_tag(target=registered_model, name="fraud", actor=member)


def test_link_to_path_creates_model(legacy_registry, project, member):
    linked = services.link_to_path(
        legacy_registry=legacy_registry,
        name="churn",
        version=log_version(project, member, name="churn"),
        aliases=["staging"],
        actor=member,
    )

    assert linked.model.name == "churn"
    assert linked.index == 0
    assert aliases_of(linked.model) == {"latest": 0, "staging": 0}
