"""The one parser and formatter of artifact paths.

    ORG/<prefix>REGISTRY/COLLECTION[:VERSION]     full registry path
    <prefix>REGISTRY/COLLECTION[:VERSION]         short path (the caller's organization)
    TEAM/model-registry/NAME[:VERSION]            legacy Model Registry path

VERSION is `vN` or an alias; without it the path means `latest`. The prefix is the setting
REGISTRY_PATH_PREFIX (`wandb-registry-` by default), so client code written for W&B paths
keeps working.
"""

import re
import unicodedata
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError

from apps.core.validators import (
    ALIAS_MAX,
    validate_name,
    validate_registry_name,
)

LEGACY_PROJECT = "model-registry"
LATEST = "latest"
INDEX_PATTERN = re.compile(r"^[vV](\d+)$")


class PathError(ValueError):
    """A path that cannot be parsed; the message names the part and the fix."""


@dataclass(frozen=True)
class ArtifactPath:
    collection: str
    version: str = LATEST
    organization: str | None = None
    registry: str | None = None
    team: str | None = None

    @property
    def is_legacy(self) -> bool:
        return self.team is not None

    @property
    def index(self) -> int | None:
        """The link index for a `vN` version, None for an alias."""
        match = INDEX_PATTERN.match(self.version)
        return int(match.group(1)) if match else None

    def format(self) -> str:
        if self.is_legacy:
            return format_legacy_path(self.team or "", self.collection, self.version)
        return format_path(self.organization, self.registry or "", self.collection, self.version)


def registry_prefix() -> str:
    return settings.REGISTRY_PATH_PREFIX


def format_path(
    organization: str | None, registry: str, collection: str, version: str | None = None
) -> str:
    head = f"{registry_prefix()}{registry}/{collection}"
    if organization:
        head = f"{organization}/{head}"
    return f"{head}:{version}" if version else head


def format_legacy_path(team: str, name: str, version: str | None = None) -> str:
    head = f"{team}/{LEGACY_PROJECT}/{name}"
    return f"{head}:{version}" if version else head


def _check(validator, value: str, part: str) -> None:
    try:
        validator(value)
    except ValidationError as error:
        raise PathError(f"The {part} in the path is invalid: {error.messages[0]}") from None


def _parse_version(text: str) -> str:
    if text == "":
        raise PathError(
            "The version after ':' is empty; write vN, an alias, or leave out ':' for latest."
        )
    if len(text) > ALIAS_MAX:
        raise PathError(f"The version is {len(text)} characters long; the limit is {ALIAS_MAX}.")
    for character in text:
        # Control characters are rejected like in alias names; a NUL byte would otherwise
        # reach the database, and PostgreSQL rejects it in a query parameter.
        if character.isspace() or character == "/" or unicodedata.category(character) == "Cc":
            raise PathError(
                f"The version {text!r} contains {character!r}; versions are vN or an alias "
                f"without whitespace, control characters or '/'."
            )
    match = INDEX_PATTERN.match(text)
    if match:
        return f"v{int(match.group(1))}"
    return text


def parse_path(text: str) -> ArtifactPath:
    """Parse a full, short or legacy path; raise PathError naming what is wrong."""
    if not isinstance(text, str) or text.strip() == "":
        raise PathError("The path is empty; write ORG/REGISTRY/COLLECTION:VERSION.")

    parts = text.split("/")
    if len(parts) == 2:
        owner, project, rest = None, parts[0], parts[1]
    elif len(parts) == 3:
        owner, project, rest = parts
        if owner == "":
            raise PathError("The organization or team before the first '/' is empty.")
    else:
        raise PathError(
            f"The path {text!r} has {len(parts) - 1} '/' separators; write "
            f"ORG/{registry_prefix()}REGISTRY/COLLECTION:VERSION (the organization may be "
            f"left out)."
        )

    if rest.count(":") > 1:
        raise PathError(
            f"The part {rest!r} has more than one ':'; write COLLECTION:VERSION with one."
        )
    collection, colon, version_text = rest.partition(":")
    version = _parse_version(version_text) if colon else LATEST
    if collection == "":
        raise PathError("The collection name after the last '/' is empty.")
    _check(validate_name, collection, "collection name")

    if project == LEGACY_PROJECT:
        if owner is None:
            raise PathError(
                f"A legacy path needs its team: write TEAM/{LEGACY_PROJECT}/NAME:VERSION."
            )
        _check(validate_name, owner, "team name")
        return ArtifactPath(collection=collection, version=version, team=owner)

    prefix = registry_prefix()
    if not project.startswith(prefix):
        raise PathError(
            f"The part {project!r} is not a registry: registry paths start with "
            f"'{prefix}', as in {prefix}model."
        )
    registry = project[len(prefix) :]
    if registry == "":
        raise PathError(f"The registry name after '{prefix}' is empty.")
    _check(validate_registry_name, registry, "registry name")
    if owner is not None:
        _check(validate_name, owner, "organization name")
    return ArtifactPath(
        collection=collection, version=version, organization=owner, registry=registry
    )


@dataclass(frozen=True)
class SourcePath:
    """A version as its team logged it: TEAM/PROJECT/ARTIFACT[:vN or :latest]."""

    team: str
    project: str
    artifact: str
    version: str = LATEST

    @property
    def number(self) -> int | None:
        """The artifact's own version number for `vN`, None for `latest`."""
        match = INDEX_PATTERN.match(self.version)
        return int(match.group(1)) if match else None


def parse_source_path(text: str) -> SourcePath:
    """Parse the source path of an artifact version; raise PathError naming what is wrong."""
    if not isinstance(text, str) or text.strip() == "":
        raise PathError("The source path is empty; write TEAM/PROJECT/ARTIFACT:vN.")
    parts = text.split("/")
    if len(parts) != 3:
        raise PathError(
            f"The source path {text!r} has {len(parts) - 1} '/' separators; write "
            f"TEAM/PROJECT/ARTIFACT:vN."
        )
    team, project, rest = parts
    artifact, colon, version_text = rest.partition(":")
    version = _parse_version(version_text) if colon else LATEST
    if version.lower() == LATEST:
        version = LATEST
    elif INDEX_PATTERN.match(version) is None:
        raise PathError(
            f"The version {version!r} of a source path must be vN or latest; aliases belong "
            f"to collections."
        )
    _check(validate_name, team, "team name")
    _check(validate_name, project, "project name")
    _check(validate_name, artifact, "artifact name")
    return SourcePath(team=team, project=project, artifact=artifact, version=version)
