"""Objects that GraphQL types resolve from where no database row fits one to one.

Most types resolve straight from model instances. A Project is a Registry, a team's
Project or a LegacyRegistry. An ArtifactCollection is a Collection, a RegisteredModel or an
Artifact. A membership is a CollectionLink, a LegacyVersion, or an ArtifactVersion as a
member of its own artifact.
"""

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser

from apps.legacy.models import LegacyVersion
from apps.orgs.models import Organization, Team
from apps.registry.models import ArtifactVersion, CollectionLink


class EntityKind:
    ORGANIZATION = "organization"
    TEAM = "team"
    USER = "user"


@dataclass(frozen=True)
class EntityNode:
    """An entity: an organization, a team, or a user's personal entity."""

    kind: str
    name: str
    organization: Organization | None = None
    team: Team | None = None
    user: AbstractBaseUser | None = None

    @property
    def pk(self) -> int:
        target = self.organization if self.kind == EntityKind.ORGANIZATION else None
        target = target or self.team or self.user
        assert target is not None
        return target.pk


def organization_entity(organization: Organization) -> EntityNode:
    return EntityNode(EntityKind.ORGANIZATION, organization.name, organization=organization)


def team_entity(team: Team) -> EntityNode:
    return EntityNode(EntityKind.TEAM, team.name, organization=team.organization, team=team)


def user_entity(user) -> EntityNode:
    return EntityNode(EntityKind.USER, user.get_username(), user=user)


@dataclass(frozen=True)
class ArtifactNode:
    """An artifact version, seen through the membership that led to it (if any).

    Tags and descriptions are kept on links, so an artifact reached through a link shows
    that link's. An artifact fetched by id shows its own description and no tags.
    """

    version: ArtifactVersion
    via: CollectionLink | LegacyVersion | None = None


@dataclass(frozen=True)
class SequenceAlias:
    """The `latest` alias of a logged artifact, on its highest version."""

    version: ArtifactVersion
    name: str = "latest"


@dataclass(frozen=True)
class ArtifactTypeNode:
    """An artifact type as seen in one project (registry, team project or legacy registry)."""

    project: object
    name: str


@dataclass(frozen=True)
class ManifestFile:
    """The manifest of a version, served as a file of its own."""

    version: ArtifactVersion
