from typing import Any

from apps.audit.models import AuditEvent


def record_event(
    *,
    organization_id: int,
    actor,
    action: str,
    target: str = "",
    registry_id: int | None = None,
    collection_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Write one audit row; call it inside the transaction of the write it describes."""
    return AuditEvent.objects.create(
        organization_id=organization_id,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        action=action,
        target=target[:500],
        registry_id=registry_id,
        collection_id=collection_id,
        data=data or {},
    )
