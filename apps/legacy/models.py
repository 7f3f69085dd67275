"""The legacy, team-level Model Registry that teams migrate away from.

Its lifecycle is computed from timestamps, never flipped by a job:
    active        no pause, not migrated
    write-paused  write_paused_since is set (a migration is copying it)
    read-only     read_only_since is set (the migration completed)
    hidden        read_only_since + the retention window has passed; the rows stay
"""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from apps.legacy.querysets import (
    LegacyRegistryQuerySet,
    LegacyVersionQuerySet,
    RegisteredModelQuerySet,
)


class LegacyState(models.TextChoices):
    ACTIVE = "active", "Active"
    WRITE_PAUSED = "write-paused", "Paused for migration"
    READ_ONLY = "read-only", "Read-only"
    HIDDEN = "hidden", "Hidden"


class LegacyRegistry(models.Model):
    team = models.OneToOneField(
        "orgs.Team", on_delete=models.CASCADE, related_name="legacy_registry"
    )
    # The team's "registry admins": they manage protected aliases besides team admins.
    admins = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="administered_legacy_registries"
    )
    write_paused_since = models.DateTimeField(null=True, blank=True)
    write_pause_ends_at = models.DateTimeField(null=True, blank=True)
    write_pause_reason = models.CharField(max_length=500, blank=True)
    read_only_since = models.DateTimeField(null=True, blank=True)
    migrated_to = models.ForeignKey(
        "registry.Registry",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="migrated_from",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = LegacyRegistryQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "legacy registries"

    def __str__(self) -> str:
        return f"{self.team.name}/model-registry"

    def hidden_at(self):
        """When the legacy view hides itself, or None while it is not read-only."""
        if self.read_only_since is None:
            return None
        return self.read_only_since + timedelta(days=settings.LEGACY_RETENTION_DAYS)

    def state(self, now=None) -> LegacyState:
        now = now or timezone.now()
        if self.read_only_since is not None:
            hidden_at = self.hidden_at()
            if hidden_at is not None and hidden_at <= now:
                return LegacyState.HIDDEN
            return LegacyState.READ_ONLY
        if self.write_paused_since is not None:
            return LegacyState.WRITE_PAUSED
        return LegacyState.ACTIVE


class RegisteredModel(models.Model):
    """A legacy registered model; after migration it records the collection it became."""

    legacy_registry = models.ForeignKey(
        LegacyRegistry, on_delete=models.CASCADE, related_name="models"
    )
    name = models.CharField(max_length=128)
    description = models.TextField(blank=True)
    tags = models.ManyToManyField("registry.Tag", blank=True, related_name="legacy_models")
    # Highest index ever handed out + 1; indices of removed versions are never reused.
    next_index = models.PositiveIntegerField(default=0)
    migrated_to = models.ForeignKey(
        "registry.Collection",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="migrated_from",
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = RegisteredModelQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                "legacy_registry",
                Lower("name"),
                name="legacy_model_name_unique_ci",
                violation_error_message="A registered model with this name already exists.",
            )
        ]
        indexes = [
            models.Index(fields=["legacy_registry", "name", "id"], name="legacy_model_by_name")
        ]

    def __str__(self) -> str:
        return self.name


class LegacyVersion(models.Model):
    """A version linked into a legacy registered model, with its index vN."""

    model = models.ForeignKey(RegisteredModel, on_delete=models.CASCADE, related_name="versions")
    index = models.PositiveIntegerField()
    version = models.ForeignKey(
        "registry.ArtifactVersion", on_delete=models.PROTECT, related_name="legacy_links"
    )
    description = models.TextField(blank=True)
    tags = models.ManyToManyField("registry.Tag", blank=True, related_name="legacy_versions")
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    linked_at = models.DateTimeField(default=timezone.now)

    objects = LegacyVersionQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["model", "index"], name="legacy_version_index_unique"),
            models.UniqueConstraint(fields=["model", "version"], name="legacy_version_once"),
        ]

    def __str__(self) -> str:
        return f"v{self.index}"


class LegacyAlias(models.Model):
    """A name that points at one version of a registered model.

    Like the registry's aliases, `latest` is a row kept by the services themselves: it
    always points at the highest remaining index, so a copy of the rows carries it over.
    """

    LATEST = "latest"

    model = models.ForeignKey(RegisteredModel, on_delete=models.CASCADE, related_name="aliases")
    version = models.ForeignKey(LegacyVersion, on_delete=models.CASCADE, related_name="aliases")
    name = models.CharField(max_length=128)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint("model", Lower("name"), name="legacy_alias_unique_ci")
        ]

    def __str__(self) -> str:
        return self.name


class LegacyProtectedAlias(models.Model):
    legacy_registry = models.ForeignKey(
        LegacyRegistry, on_delete=models.CASCADE, related_name="protected_aliases"
    )
    name = models.CharField(max_length=128)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                "legacy_registry", Lower("name"), name="legacy_protected_alias_unique_ci"
            )
        ]

    def __str__(self) -> str:
        return self.name


class LegacyEvent(models.Model):
    """The history of a legacy registered model: links, unlinks, alias moves, edits."""

    model = models.ForeignKey(RegisteredModel, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    action = models.CharField(max_length=64)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["model", "-id"], name="legacy_event_recent")]

    def __str__(self) -> str:
        return f"{self.action} on {self.model_id}"
