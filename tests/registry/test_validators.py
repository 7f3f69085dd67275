"""Name, alias and tag rules, and the database constraints behind case-insensitive names."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from apps.core.validators import (
    validate_alias,
    validate_name,
    validate_registry_name,
    validate_tag,
)
from apps.orgs.models import Organization, Team
from apps.registry.models import (
    Alias,
    Artifact,
    Collection,
    CollectionLink,
    Project,
    Registry,
    Tag,
)


def message_of(validator, value, **kwargs) -> str:
    with pytest.raises(ValidationError) as raised:
        validator(value, **kwargs)
    return raised.value.messages[0]


# Names --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "a",
        "fraud-detector",
        "fraud detector v2",
        "Fraud_Detector.final",
        "модель",
        "模型 数据",
        "x" * 128,
        "ü" * 128,
        "a\u00a0b",
        "(draft) [2024] @team + ~ ! & * = , ; ' \"",
    ],
)
def test_name_accepted(name):
    assert validate_name(name) == name


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("a/b", "contains '/'"),
        ("a\\b", "contains '\\'"),
        ("a#b", "contains '#'"),
        ("a?b", "contains '?'"),
        ("a%b", "contains '%'"),
        ("a:b", "contains ':'"),
        ("a\nb", "the control character U+000A"),
        ("a\r\nb", "the control character U+000D"),
        ("a\tb", "the control character U+0009"),
        ("a\x00b", "the control character U+0000"),
        ("a\x7fb", "the control character U+007F"),
        ("a\x85b", "the control character U+0085"),
        ("a\u2028b", "the line break U+2028"),
        ("a\u2029b", "the line break U+2029"),
        ("\u200b", "the invisible format character U+200B (ZERO WIDTH SPACE)"),
        ("rtl\u202eabc", "the invisible format character U+202E (RIGHT-TO-LEFT OVERRIDE)"),
        ("\u202eevil", "the invisible format character U+202E"),
        ("a\u200db", "the invisible format character U+200D (ZERO WIDTH JOINER)"),
        ("a\u2066b", "the invisible format character U+2066"),
        ("\ufeffname", "the invisible format character U+FEFF"),
        ("a\u00adb", "the invisible format character U+00AD (SOFT HYPHEN)"),
    ],
)
def test_name_forbidden_character(name, fragment):
    message = message_of(validate_name, name, kind="collection name")

    assert fragment in message
    assert message.startswith("The collection name ")
    assert "names may not contain / \\ # ? % :, control characters or invisible" in message


@pytest.mark.parametrize("name", [" fraud", "fraud ", " fraud ", "\u00a0fraud", "fraud\u3000"])
def test_name_outer_whitespace_rejected(name):
    message = message_of(validate_name, name)

    assert "starts or ends with whitespace" in message
    assert repr(name) in message


@pytest.mark.parametrize("name", [" ", "   ", "\u3000", "\u00a0"])
def test_name_only_whitespace_rejected(name):
    message = message_of(validate_name, name, kind="team name")

    assert f"The team name {name!r} is only whitespace" in message
    assert "give it at least one letter or digit" in message


def test_name_empty_rejected():
    assert "The collection name is empty" in message_of(validate_name, "", kind="collection name")


def test_name_length_limits():
    assert validate_name("x" * 128) == "x" * 128
    assert "129 characters long; the limit is 128" in message_of(validate_name, "x" * 129)
    assert validate_registry_name("x" * 113) == "x" * 113
    message = message_of(validate_registry_name, "x" * 114)
    assert "The registry name is 114 characters long; the limit is 113" in message


def test_name_length_counts_characters():
    # 128 characters of two UTF-8 bytes each: the limit is on characters, not bytes.
    assert validate_name("é" * 128) == "é" * 128
    assert "129 characters long" in message_of(validate_name, "é" * 129)


def test_name_message_names_first_offender():
    message = message_of(validate_name, "a:b/c")

    assert "contains ':'" in message
    assert "contains '/'" not in message


# Aliases ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "alias", ["production", "Staging", "best-2024", "v", "v1x", "x1", "vv1", "über", "a#b", "1"]
)
def test_alias_accepted(alias):
    assert validate_alias(alias) == alias


@pytest.mark.parametrize(
    "alias", ["latest", "LATEST", "Latest", "v0", "v1", "V1", "v007", "V12345678901234567890"]
)
def test_alias_reserved(alias):
    message = message_of(validate_alias, alias)

    assert f"The alias {alias!r} is reserved" in message
    assert "'latest' and v<number>" in message


@pytest.mark.parametrize(
    ("alias", "fragment"),
    [
        ("a b", "contains a space"),
        ("a/b", "contains '/'"),
        ("a:b", "contains ':'"),
        ("a\tb", "the control character U+0009"),
        ("a\nb", "the control character U+000A"),
        ("a\x00b", "the control character U+0000"),
        ("\u202eevil", "the invisible format character U+202E (RIGHT-TO-LEFT OVERRIDE)"),
        ("\u200b", "the invisible format character U+200B"),
        ("prod\u200b", "the invisible format character U+200B"),
        (" prod", "contains a space"),
        ("prod ", "contains a space"),
    ],
)
def test_alias_forbidden_character(alias, fragment):
    message = message_of(validate_alias, alias)

    assert fragment in message
    assert "no /, :, whitespace, control characters or invisible format" in message


def test_alias_length_limits():
    assert validate_alias("a" * 128) == "a" * 128
    assert "129 characters long; the limit is 128" in message_of(validate_alias, "a" * 129)
    assert "The alias is empty" in message_of(validate_alias, "")


# Tags ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("tag", ["prod", "Prod-1", "fraud_v2", "two words", "a b c", "X" * 128])
def test_tag_accepted(tag):
    assert validate_tag(tag) == tag


@pytest.mark.parametrize(
    ("tag", "fragment"),
    [
        ("a  b", "double space"),
        (" prod", "leading, trailing or double space"),
        ("prod ", "leading, trailing or double space"),
        ("a.b", "contains '.'"),
        ("a/b", "contains '/'"),
        ("a:b", "contains ':'"),
        ("a\tb", "the control character U+0009"),
        ("a\nb", "the control character U+000A"),
        ("\u200b", "the invisible format character U+200B"),
        ("rtl\u202eabc", "the invisible format character U+202E"),
    ],
)
def test_tag_rejected(tag, fragment):
    assert fragment in message_of(validate_tag, tag)


def test_tag_message_says_ascii_letters():
    message = message_of(validate_tag, "grün")

    assert "contains 'ü'" in message
    assert "ASCII letters (A-Z, a-z), digits (0-9), '_' and '-'" in message


def test_tag_empty_and_too_long():
    assert "The tag is empty" in message_of(validate_tag, "")
    assert "129 characters long; the limit is 128" in message_of(validate_tag, "x" * 129)


# Case-insensitive uniqueness in the database --------------------------------------------------
#
# Each duplicate is written with the ORM directly, past the services, so only the database
# constraint can reject it.


def assert_rejected_by_database(create):
    with pytest.raises(IntegrityError), transaction.atomic():
        create()


def test_organization_name_unique_ignoring_case(org):
    assert_rejected_by_database(lambda: Organization.objects.create(name="ACME"))


def test_team_name_unique_ignoring_case(team):
    assert_rejected_by_database(
        lambda: Team.objects.create(organization=team.organization, name="Fraud-Team")
    )


def test_registry_name_unique_ignoring_case(model_registry):
    assert_rejected_by_database(
        lambda: Registry.objects.create(organization=model_registry.organization, name="MODEL")
    )


def test_registry_name_unique_per_organization(model_registry, other_org):
    assert Registry.objects.filter(name__iexact="model").count() == 2


def test_collection_name_unique_ignoring_case(collection):
    assert_rejected_by_database(
        lambda: Collection.objects.create(
            registry=collection.registry, name="Fraud-Detector", type="model"
        )
    )


def test_collection_keeps_its_case(model_registry):
    created = Collection.objects.create(registry=model_registry, name="Fraud-Detector", type="x")

    assert Collection.objects.get(pk=created.pk).name == "Fraud-Detector"


def test_project_name_unique_ignoring_case(project):
    assert_rejected_by_database(lambda: Project.objects.create(team=project.team, name="FRAUD"))


def test_artifact_name_unique_ignoring_case(project):
    Artifact.objects.create(project=project, name="detector", type="model")

    assert_rejected_by_database(
        lambda: Artifact.objects.create(project=project, name="Detector", type="model")
    )


def test_tag_name_unique_ignoring_case(org):
    Tag.objects.create(organization=org, name="production")

    assert_rejected_by_database(lambda: Tag.objects.create(organization=org, name="Production"))


def test_alias_unique_ignoring_case(linked):
    collection = linked[0].collection

    assert_rejected_by_database(
        lambda: Alias.objects.create(collection=collection, link=linked[0], name="CHAMPION")
    )


def test_link_index_unique_in_collection(linked):
    other = CollectionLink.objects.exclude(pk=linked[0].pk).first()

    assert_rejected_by_database(
        lambda: CollectionLink.objects.filter(pk=other.pk).update(index=linked[0].index)
    )


@pytest.mark.parametrize("name", [".", "..", "..."])
def test_name_of_only_dots_rejected(name):
    with pytest.raises(ValidationError, match="only dots"):
        validate_name(name)
