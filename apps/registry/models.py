from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from apps.registry.querysets import (
    ArtifactVersionQuerySet,
    CollectionLinkQuerySet,
    CollectionQuerySet,
    RegistryQuerySet,
)
from apps.registry.roles import REGISTRY_PERMISSIONS

CORE_REGISTRY_TYPES = {"model": "model", "dataset": "dataset"}


class Visibility(models.TextChoices):
    ORGANIZATION = "organization", "Organization"
    RESTRICTED = "restricted", "Restricted"


class Project(models.Model):
    team = models.ForeignKey("orgs.Team", on_delete=models.CASCADE, related_name="projects")
    name = models.CharField(max_length=128)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                "team",
                Lower("name"),
                name="project_name_unique_ci_in_team",
                violation_error_message="A project with this name already exists in the team.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.team.name}/{self.name}"


class Run(models.Model):
    """A training or evaluation run that produced or used artifact versions."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="runs")
    run_id = models.CharField(max_length=64)
    name = models.CharField(max_length=256, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "run_id"], name="run_id_unique_in_project")
        ]

    def __str__(self) -> str:
        return self.name or self.run_id


class Artifact(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="artifacts")
    name = models.CharField(max_length=128)
    type = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                "project",
                Lower("name"),
                name="artifact_name_unique_ci_in_project",
                violation_error_message="An artifact with this name already exists here.",
            )
        ]

    def __str__(self) -> str:
        return self.name


class ArtifactVersion(models.Model):
    """One immutable version of an artifact, as a run logged it.

    `version` is the artifact's own sequence number (the source path's vN); a link into a
    collection gets that collection's index instead.
    """

    artifact = models.ForeignKey(Artifact, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    digest = models.CharField(max_length=128)
    metadata = models.JSONField(default=dict, blank=True)
    description = models.TextField(blank=True)
    produced_by = models.ForeignKey(
        Run, on_delete=models.SET_NULL, null=True, blank=True, related_name="outputs"
    )
    used_by = models.ManyToManyField(Run, blank=True, related_name="inputs")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField()

    objects = ArtifactVersionQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["artifact", "version"], name="artifact_version_unique_number"
            )
        ]

    def __str__(self) -> str:
        return f"{self.artifact.name}:v{self.version}"

    @property
    def type(self) -> str:
        return self.artifact.type

    @property
    def source_path(self) -> str:
        project = self.artifact.project
        return f"{project.team.name}/{project.name}/{self.artifact.name}:v{self.version}"


class ManifestEntry(models.Model):
    """One file of an artifact version: where it sits in the version and what it contains."""

    version = models.ForeignKey(ArtifactVersion, on_delete=models.CASCADE, related_name="files")
    path = models.CharField(max_length=1024)
    size = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    # The base64 md5 of the content, as W&B manifests carry it; blank where unknown.
    md5 = models.CharField(max_length=24, blank=True)

    class Meta:
        ordering = ["path"]
        constraints = [
            models.UniqueConstraint(fields=["version", "path"], name="manifest_path_unique")
        ]

    def __str__(self) -> str:
        return self.path


class Tag(models.Model):
    """A label, stored once per organization whatever the case it is written in."""

    organization = models.ForeignKey(
        "orgs.Organization", on_delete=models.CASCADE, related_name="tags"
    )
    name = models.CharField(max_length=128)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint("organization", Lower("name"), name="tag_name_unique_ci")
        ]

    def __str__(self) -> str:
        return self.name


class Registry(models.Model):
    organization = models.ForeignKey(
        "orgs.Organization", on_delete=models.CASCADE, related_name="registries"
    )
    name = models.CharField(max_length=113)
    description = models.TextField(blank=True)
    visibility = models.CharField(
        max_length=16, choices=Visibility.choices, default=Visibility.RESTRICTED
    )
    is_core = models.BooleanField(default=False)
    # An empty list together with accepts_all_types means "all types".
    accepts_all_types = models.BooleanField(default=False)
    accepted_types = models.JSONField(default=list, blank=True)
    # An accountability label only: being the owner grants nothing.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # A write pause (set by a migration): while write_paused_since is set, every write
    # service rejects changes with the reason; write_pause_ends_at is the expected end.
    write_paused_since = models.DateTimeField(null=True, blank=True)
    write_pause_ends_at = models.DateTimeField(null=True, blank=True)
    write_pause_reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RegistryQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "registries"
        default_permissions = ()
        permissions = REGISTRY_PERMISSIONS
        constraints = [
            models.UniqueConstraint(
                "organization",
                Lower("name"),
                name="registry_name_unique_ci_in_org",
                violation_error_message="A registry with this name already exists.",
            )
        ]
        indexes = [models.Index(fields=["organization", "-updated_at"], name="registry_recent")]

    def __str__(self) -> str:
        return self.name

    def accepts(self, artifact_type: str) -> bool:
        return self.accepts_all_types or artifact_type in self.accepted_types

    @property
    def path_name(self) -> str:
        return f"{settings.REGISTRY_PATH_PREFIX}{self.name}"


class Collection(models.Model):
    # The name constraint and the listing indexes all start with registry_id, so they serve
    # look-ups by registry. A separate index would only slow down bulk inserts.
    registry = models.ForeignKey(
        Registry, on_delete=models.CASCADE, related_name="collections", db_index=False
    )
    name = models.CharField(max_length=128)
    type = models.CharField(max_length=64)
    description = models.TextField(blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="collections")
    # The next link index. Only services.link_version advances it, under a row lock, so
    # indices are handed out once each and never reused after an unlink.
    next_index = models.PositiveIntegerField(default=0)
    # The number of links, stored so that pages need not count them. Every write that adds
    # or removes a link changes it in the same transaction. The link services use an F()
    # update under the row lock, and the migration copy adds the rows each chunk inserted.
    # The database default lets raw INSERTs of collections leave it out.
    version_count = models.PositiveIntegerField(default=0, db_default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CollectionQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                "registry",
                Lower("name"),
                name="collection_name_unique_ci_in_registry",
                violation_error_message="A collection with this name already exists here.",
            )
        ]
        indexes = [
            models.Index(fields=["registry", "name", "id"], name="collection_by_name"),
            models.Index(fields=["registry", "-updated_at", "-id"], name="collection_recent"),
            models.Index(fields=["registry", "-created_at", "-id"], name="collection_newest"),
        ]

    def __str__(self) -> str:
        return self.name


class CollectionLink(models.Model):
    """A pointer from a collection to a source artifact version, with its index vN."""

    # Both unique constraints start with collection_id and serve its look-ups.
    collection = models.ForeignKey(
        Collection, on_delete=models.CASCADE, related_name="links", db_index=False
    )
    index = models.PositiveIntegerField()
    version = models.ForeignKey(ArtifactVersion, on_delete=models.PROTECT, related_name="links")
    description = models.TextField(blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="links")
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    linked_at = models.DateTimeField(auto_now_add=True)

    objects = CollectionLinkQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["collection", "index"], name="link_index_unique_in_collection"
            ),
            models.UniqueConstraint(
                fields=["collection", "version"], name="link_version_once_in_collection"
            ),
        ]

    def __str__(self) -> str:
        return f"v{self.index}"


class Alias(models.Model):
    """A name that points at exactly one link of a collection; `latest` is system-kept."""

    LATEST = "latest"

    # The name constraint starts with collection_id and serves its look-ups.
    collection = models.ForeignKey(
        Collection, on_delete=models.CASCADE, related_name="aliases", db_index=False
    )
    link = models.ForeignKey(CollectionLink, on_delete=models.CASCADE, related_name="aliases")
    name = models.CharField(max_length=128)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                "collection",
                Lower("name"),
                name="alias_unique_ci_in_collection",
                violation_error_message="This alias is already used in the collection.",
            )
        ]

    def __str__(self) -> str:
        return self.name


class ProtectedAlias(models.Model):
    """An alias name that only registry Admins may put on or take off a version."""

    registry = models.ForeignKey(
        Registry, on_delete=models.CASCADE, related_name="protected_aliases"
    )
    name = models.CharField(max_length=128)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                "registry",
                Lower("name"),
                name="protected_alias_unique_ci",
                violation_error_message="This alias is already protected.",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Star(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="registry_stars"
    )
    registry = models.ForeignKey(Registry, on_delete=models.CASCADE, related_name="stars")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "registry"], name="star_once_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} stars {self.registry_id}"


class RegistryUserObjectPermission(UserObjectPermissionBase):
    """A registry permission granted to one user (direct foreign key, no generic relation)."""

    content_object = models.ForeignKey(
        Registry, on_delete=models.CASCADE, related_name="user_permissions"
    )

    class Meta(UserObjectPermissionBase.Meta):
        indexes = [models.Index(fields=["user", "permission"], name="registry_user_perm")]


class RegistryGroupObjectPermission(GroupObjectPermissionBase):
    """A registry permission granted to a group: a team, or an organization-wide group."""

    content_object = models.ForeignKey(
        Registry, on_delete=models.CASCADE, related_name="group_permissions"
    )

    class Meta(GroupObjectPermissionBase.Meta):
        indexes = [models.Index(fields=["group", "permission"], name="registry_group_perm")]
