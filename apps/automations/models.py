from django.conf import settings
from django.db import models
from django.db.models.functions import Lower

from apps.automations.querysets import (
    AutomationQuerySet,
    ExecutionQuerySet,
    WebhookIntegrationQuerySet,
)


class EventType(models.TextChoices):
    VERSION_LINKED = "version.linked", "A version is linked"
    ALIAS_ADDED = "alias.added", "An alias is added to a version"
    TAG_ADDED = "tag.added", "A tag is added"
    TAG_REMOVED = "tag.removed", "A tag is removed"
    VERSION_UNLINKED = "version.unlinked", "A version is unlinked"


class WebhookIntegration(models.Model):
    """An HTTPS endpoint of a team that automations POST their payloads to.

    The access token and signing secret are stored as Fernet tokens (see crypto.py); no page,
    API response or log shows them after they are saved.
    """

    team = models.ForeignKey("orgs.Team", on_delete=models.CASCADE, related_name="integrations")
    name = models.CharField(max_length=128)
    url = models.URLField(max_length=2000)
    access_token_encrypted = models.TextField(blank=True)
    signing_secret_encrypted = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = WebhookIntegrationQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                "team",
                Lower("name"),
                name="integration_name_unique_ci_in_team",
                violation_error_message="An integration with this name already exists here.",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def has_access_token(self) -> bool:
        return bool(self.access_token_encrypted)

    @property
    def has_signing_secret(self) -> bool:
        return bool(self.signing_secret_encrypted)


class Automation(models.Model):
    """A webhook sent when an event happens in a registry or in one of its collections.

    Without a collection the automation covers every collection of the registry, including
    collections created after it.
    """

    registry = models.ForeignKey(
        "registry.Registry", on_delete=models.CASCADE, related_name="automations"
    )
    collection = models.ForeignKey(
        "registry.Collection",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="automations",
    )
    name = models.CharField(max_length=128)
    description = models.TextField(blank=True)
    event_type = models.CharField(max_length=32, choices=EventType.choices)
    # A Python regular expression searched for in the alias name; empty matches every alias.
    # Only alias.added automations use it.
    alias_pattern = models.CharField(max_length=200, blank=True)
    # Deleting an integration must not wait for the registries that use it (its team may not
    # see them), so the automation stays, sends nothing, and its page shows why.
    integration = models.ForeignKey(
        WebhookIntegration,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="automations",
    )
    payload_template = models.TextField()
    is_enabled = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AutomationQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                "registry",
                Lower("name"),
                name="automation_name_unique_ci_in_registry",
                violation_error_message="An automation with this name already exists here.",
            )
        ]
        indexes = [
            models.Index(fields=["registry", "event_type"], name="automation_by_event"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def scope_label(self) -> str:
        if self.collection_id is None:
            return "All collections"
        return f"Collection {self.collection.name}"


class ExecutionStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    FINISHED = "finished", "Finished"
    FAILED = "failed", "Failed"


class Execution(models.Model):
    """One event delivered, or being delivered, to one automation's webhook.

    `body` is rendered when the event is recorded, so every attempt sends the same bytes and
    the same signature, and the payload describes the registry as it was at the event.
    """

    automation = models.ForeignKey(Automation, on_delete=models.CASCADE, related_name="executions")
    event = models.ForeignKey("audit.AuditEvent", on_delete=models.CASCADE, related_name="+")
    event_type = models.CharField(max_length=32, choices=EventType.choices)
    status = models.CharField(
        max_length=16, choices=ExecutionStatus.choices, default=ExecutionStatus.PENDING
    )
    body = models.TextField()
    attempt_count = models.PositiveIntegerField(default=0)
    # When the next attempt is due; a task that arrives earlier waits until then.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # Set while a task is sending; a second task for the same execution backs off until then.
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = ExecutionQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["automation", "event"], name="execution_once_per_event")
        ]
        indexes = [
            models.Index(fields=["automation", "-id"], name="execution_recent"),
            models.Index(fields=["status", "next_attempt_at"], name="execution_due"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} to {self.automation_id} ({self.status})"


class AttemptOutcome(models.TextChoices):
    SUCCEEDED = "succeeded", "Succeeded"
    RETRYING = "retrying", "Failed, will retry"
    FAILED = "failed", "Failed"


class DeliveryAttempt(models.Model):
    """One HTTP request of an execution, successful or not."""

    RESPONSE_EXCERPT_BYTES = 1024

    execution = models.ForeignKey(Execution, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveIntegerField()
    outcome = models.CharField(max_length=16, choices=AttemptOutcome.choices)
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField()
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    # The first RESPONSE_EXCERPT_BYTES bytes of the response body, decoded as UTF-8.
    response_excerpt = models.TextField(blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(
                fields=["execution", "number"], name="attempt_number_unique_in_execution"
            )
        ]

    def __str__(self) -> str:
        return f"attempt {self.number} of execution {self.execution_id}: {self.outcome}"
