from django.conf import settings
from django.db import models


class AuditEvent(models.Model):
    """One row for every write, recorded in the transaction of the write itself.

    The registry and collection are kept as plain ids, not foreign keys: this app sits below
    the registry app, and the history of a deleted collection must outlive it.
    """

    organization = models.ForeignKey(
        "orgs.Organization", on_delete=models.CASCADE, related_name="audit_events"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    action = models.CharField(max_length=64)
    registry_id = models.BigIntegerField(null=True, blank=True)
    collection_id = models.BigIntegerField(null=True, blank=True)
    target = models.CharField(max_length=500, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        indexes = [
            models.Index(fields=["collection_id", "-id"], name="audit_collection_recent"),
            models.Index(fields=["registry_id", "-id"], name="audit_registry_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.action} by {self.actor_id} at {self.created_at:%Y-%m-%d %H:%M}"
