from collections.abc import Callable
from typing import Any

from apps.audit.models import AuditEvent

# Callables that record_event calls with each new event, inside the transaction of the write.
# Higher apps register here (automations, from its AppConfig.ready) so this app never imports
# them. An exception in a listener propagates, so it rolls the write back.
EventListener = Callable[[AuditEvent], None]
event_listeners: list[EventListener] = []


def add_event_listener(listener: EventListener) -> None:
    if listener not in event_listeners:
        event_listeners.append(listener)


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
    event = AuditEvent.objects.create(
        organization_id=organization_id,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        action=action,
        target=target[:500],
        registry_id=registry_id,
        collection_id=collection_id,
        data=data or {},
    )
    for listener in event_listeners:
        listener(event)
    return event
