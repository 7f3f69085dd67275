"""The artifact path parser and formatter: a golden table and a round-trip property."""

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.core.validators import validate_alias, validate_name
from apps.registry.paths import (
    ArtifactPath,
    PathError,
    format_legacy_path,
    format_path,
    parse_path,
)


def full(collection, version="latest", org="acme", registry="model"):
    return ArtifactPath(collection=collection, version=version, organization=org, registry=registry)


def short(collection, version="latest", registry="model"):
    return ArtifactPath(collection=collection, version=version, registry=registry)


def legacy(collection, version="latest", team="fraud-team"):
    return ArtifactPath(collection=collection, version=version, team=team)


PARSED = [
    # Full paths.
    ("acme/wandb-registry-model/fraud-detector:v3", full("fraud-detector", "v3")),
    ("acme/wandb-registry-model/fraud-detector:champion", full("fraud-detector", "champion")),
    ("acme/wandb-registry-model/fraud-detector", full("fraud-detector")),
    ("acme/wandb-registry-model/fraud-detector:latest", full("fraud-detector")),
    ("acme/wandb-registry-model/fraud-detector:v0", full("fraud-detector", "v0")),
    ("acme/wandb-registry-dataset/txns:v12", full("txns", "v12", registry="dataset")),
    # vN is normalised to lower case without leading zeros.
    ("acme/wandb-registry-model/fd:V3", full("fd", "v3")),
    ("acme/wandb-registry-model/fd:v007", full("fd", "v7")),
    ("acme/wandb-registry-model/fd:v000", full("fd", "v0")),
    # Aliases keep the case they were written in, and lookups ignore it.
    ("acme/wandb-registry-model/fd:Champion", full("fd", "Champion")),
    ("acme/wandb-registry-model/fd:LATEST", full("fd", "LATEST")),
    # Almost an index, but an alias.
    ("acme/wandb-registry-model/fd:v", full("fd", "v")),
    ("acme/wandb-registry-model/fd:v1.0", full("fd", "v1.0")),
    ("acme/wandb-registry-model/fd:v-1", full("fd", "v-1")),
    ("acme/wandb-registry-model/fd:3", full("fd", "3")),
    # Names with spaces, unicode and the maximum lengths.
    ("acme/wandb-registry-model/my model:v1", full("my model", "v1")),
    ("acme/wandb-registry-my models/fd", full("fd", registry="my models")),
    ("Acme Corp/wandb-registry-model/fd", full("fd", org="Acme Corp")),
    ("acme/wandb-registry-model/модель:прод", full("модель", "прод")),
    ("acme/wandb-registry-模型/检测器:v2", full("检测器", "v2", registry="模型")),
    ("acme/wandb-registry-model/" + "c" * 128, full("c" * 128)),
    ("acme/wandb-registry-" + "r" * 113 + "/fd", full("fd", registry="r" * 113)),
    ("acme/wandb-registry-model/fd:" + "a" * 128, full("fd", "a" * 128)),
    # The prefix is matched once, so the rest is the registry name.
    ("acme/wandb-registry-wandb-registry-x/fd", full("fd", registry="wandb-registry-x")),
    # Short paths leave out the organization.
    ("wandb-registry-model/fraud-detector:champion", short("fraud-detector", "champion")),
    ("wandb-registry-model/fraud-detector", short("fraud-detector")),
    ("wandb-registry-model/fd:V10", short("fd", "v10")),
    # Legacy Model Registry paths.
    ("fraud-team/model-registry/fraud-detector:v1", legacy("fraud-detector", "v1")),
    ("fraud-team/model-registry/fraud-detector", legacy("fraud-detector")),
    ("fraud-team/model-registry/fd:V02", legacy("fd", "v2")),
    ("fraud-team/model-registry/fd:staging", legacy("fd", "staging")),
    ("nlp team/model-registry/my model:v4", legacy("my model", "v4", team="nlp team")),
]

REJECTED = [
    ("", "The path is empty"),
    ("   ", "The path is empty"),
    ("fraud-detector", "has 0 '/' separators"),
    ("wandb-registry-", "has 0 '/' separators"),
    ("wandb-registry-/", "The collection name after the last '/' is empty"),
    ("acme/wandb-registry-/fd", "The registry name after 'wandb-registry-' is empty"),
    ("acme/wandb-registry-model/", "The collection name after the last '/' is empty"),
    ("acme/wandb-registry-model/:v1", "The collection name after the last '/' is empty"),
    ("/wandb-registry-model/fd", "The organization or team before the first '/' is empty"),
    ("acme//fd", "The part '' is not a registry"),
    ("a/b/c/d", "has 3 '/' separators"),
    ("acme/wandb-registry-model/fd:prod/x", "has 3 '/' separators"),
    ("acme/wandb-registry-model/fd:", "The version after ':' is empty"),
    ("acme/wandb-registry-model/fd:a:b", "has more than one ':'"),
    ("acme/wandb-registry-model/fd::v1", "has more than one ':'"),
    ("acme/registry-model/fd", "The part 'registry-model' is not a registry"),
    ("acme/WANDB-REGISTRY-model/fd", "is not a registry"),
    ("model-registry/fd:v1", "A legacy path needs its team"),
    (" acme/wandb-registry-model/fd", "starts or ends with whitespace"),
    ("acme/wandb-registry-model/fd ", "starts or ends with whitespace"),
    ("acme/wandb-registry- model/fd", "starts or ends with whitespace"),
    ("acme/wandb-registry-model/fd: v1", "contains ' '"),
    ("acme/wandb-registry-model/fd:v1 ", "contains ' '"),
    ("acme/wandb-registry-model/fd:pro\tduction", "contains '\\t'"),
    ("acme/wandb-registry-model/fd:pr\x00od", "contains '\\x00'"),
    ("acme/wandb-registry-model/fd\n", "the control character U+000A"),
    ("acme/wandb-registry-model/fd#1", "contains '#'"),
    ("acme/wandb-registry-model/50%", "contains '%'"),
    ("acme/wandb-registry-model/why?", "contains '?'"),
    ("acme/wandb-registry-model/back\\slash", "contains '\\'"),
    ("acme/wandb-registry-model/" + "c" * 129, "129 characters long; the limit is 128"),
    ("acme/wandb-registry-" + "r" * 114 + "/fd", "114 characters long; the limit is 113"),
    ("acme/wandb-registry-model/fd:" + "a" * 129, "129 characters long; the limit is 128"),
    ("fraud-team/model-registry/", "The collection name after the last '/' is empty"),
    ("fraud team /model-registry/fd", "starts or ends with whitespace"),
]


@pytest.mark.parametrize(("text", "expected"), PARSED, ids=[case[0][:60] for case in PARSED])
def test_parse_path_golden(text, expected):
    assert parse_path(text) == expected


@pytest.mark.parametrize(("text", "fragment"), REJECTED, ids=[case[0][:60] for case in REJECTED])
def test_parse_path_rejects(text, fragment):
    with pytest.raises(PathError) as raised:
        parse_path(text)

    assert fragment in str(raised.value)


def test_golden_table_size():
    assert len(PARSED) + len(REJECTED) >= 40


def test_index_of_parsed_version():
    assert parse_path("acme/wandb-registry-model/fd:v007").index == 7
    assert parse_path("acme/wandb-registry-model/fd:V0").index == 0
    assert parse_path("acme/wandb-registry-model/fd:champion").index is None
    assert parse_path("acme/wandb-registry-model/fd").index is None


def test_legacy_path_is_legacy():
    assert parse_path("fraud-team/model-registry/fd:v1").is_legacy
    assert not parse_path("acme/wandb-registry-model/fd:v1").is_legacy


def test_prefix_comes_from_settings(settings):
    settings.REGISTRY_PATH_PREFIX = "reg-"

    assert parse_path("acme/reg-model/fd:v1") == full("fd", "v1")
    assert format_path("acme", "model", "fd", "v1") == "acme/reg-model/fd:v1"
    with pytest.raises(PathError, match="registry paths start with 'reg-'"):
        parse_path("acme/wandb-registry-model/fd:v1")


def test_format_without_version():
    assert format_path("acme", "model", "fd") == "acme/wandb-registry-model/fd"
    assert format_path(None, "model", "fd", "v2") == "wandb-registry-model/fd:v2"
    assert format_legacy_path("fraud-team", "fd") == "fraud-team/model-registry/fd"
    assert legacy("fd", "v1").format() == "fraud-team/model-registry/fd:v1"


# Round trip ---------------------------------------------------------------------------------


def _is_valid(validator, value: str) -> bool:
    try:
        validator(value)
    except ValidationError:
        return False
    return True


# Any character the name rules allow: everything except / \ # ? % : and control characters
# (surrogates cannot be encoded, so they never reach a path).
_name_characters = st.characters(
    exclude_categories=("Cc", "Cs", "Zl", "Zp"), exclude_characters="/\\#?%:"
)
_alias_characters = st.characters(
    exclude_categories=("Cc", "Cs", "Zl", "Zp", "Zs"), exclude_characters="/:"
)


def _names(max_size: int):
    return (
        st.text(_name_characters, min_size=1, max_size=max_size)
        .filter(lambda name: name == name.strip())
        .filter(lambda name: _is_valid(lambda n: validate_name(n, max_length=max_size), name))
    )


names = _names(128)
registry_names = _names(113)
aliases = st.text(_alias_characters, min_size=1, max_size=128).filter(
    lambda alias: _is_valid(validate_alias, alias)
)
versions = st.one_of(
    st.just("latest"),
    st.integers(min_value=0, max_value=10**9).map(lambda index: f"v{index}"),
    aliases,
)

registry_paths = st.builds(
    ArtifactPath,
    collection=names,
    version=versions,
    organization=st.one_of(st.none(), names),
    registry=registry_names,
)
legacy_paths = st.builds(ArtifactPath, collection=names, version=versions, team=names)


@settings(deadline=None, max_examples=300)
@given(path=st.one_of(registry_paths, legacy_paths))
def test_format_then_parse_round_trip(path):
    assert parse_path(path.format()) == path


@settings(deadline=None)
@given(organization=st.one_of(st.none(), names), registry=registry_names, collection=names)
def test_path_without_version_means_latest(organization, registry, collection):
    parsed = parse_path(format_path(organization, registry, collection))

    assert parsed.version == "latest"
    assert parsed.collection == collection
    assert parsed.registry == registry
    assert parsed.organization == organization


@settings(deadline=None)
@given(index=st.integers(min_value=0, max_value=10**9), zeros=st.integers(0, 3))
def test_index_spellings_normalise(index, zeros):
    spelled = "V" + "0" * zeros + str(index)

    parsed = parse_path(f"acme/wandb-registry-model/fd:{spelled}")

    assert parsed.version == f"v{index}"
    assert parsed.index == index
