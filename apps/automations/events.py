"""From audit events to pending executions.

`on_audit_event` runs inside the transaction of every registry write (it is registered with
the audit app in AutomationsConfig.ready). It finds the automations the event triggers,
renders their payloads and creates one pending execution each, in that same transaction, so
a write that rolls back leaves no execution behind. The deliveries are queued only once the
transaction commits.
"""

import logging
from functools import partial
from typing import Any

from django.db import transaction
from django.db.models import Q

from apps.audit.models import AuditEvent
from apps.automations import payloads
from apps.automations.models import Automation, EventType, Execution
from apps.automations.tasks import enqueue_delivery
from apps.automations.validators import alias_matches
from apps.registry.models import ArtifactVersion, Collection, CollectionLink, Registry
from apps.registry.paths import format_path

logger = logging.getLogger(__name__)

# Audit actions of the registry services -> the automation event they are.
ACTION_EVENTS: dict[str, EventType] = {
    "version.linked": EventType.VERSION_LINKED,
    "alias.set": EventType.ALIAS_ADDED,
    "tag.added": EventType.TAG_ADDED,
    "tag.removed": EventType.TAG_REMOVED,
    "version.unlinked": EventType.VERSION_UNLINKED,
}


def matching_automations(event: AuditEvent, event_type: EventType) -> list[Automation]:
    automations = (
        Automation.objects.filter(
            registry_id=event.registry_id,
            event_type=event_type,
            is_enabled=True,
            integration__isnull=False,
        )
        .filter(Q(collection__isnull=True) | Q(collection_id=event.collection_id))
        .order_by("pk")
    )
    if event_type != EventType.ALIAS_ADDED:
        return list(automations)
    alias = str(event.data.get("alias", ""))
    return [a for a in automations if alias_matches(a.alias_pattern, alias)]


def _version_of(event: AuditEvent, collection: Collection | None) -> ArtifactVersion | None:
    data = event.data
    queryset = ArtifactVersion.objects.select_related("artifact__project__team")
    if "version_id" in data:
        return queryset.filter(pk=data["version_id"]).first()
    if collection is None or "index" not in data:
        return None
    link = CollectionLink.objects.filter(collection=collection, index=data["index"]).first()
    return None if link is None else queryset.filter(pk=link.version_id).first()


def event_context(event: AuditEvent) -> dict[str, Any]:
    """Collect the template variables of an event while its transaction is still open."""
    registry = Registry.objects.select_related("organization").get(pk=event.registry_id)
    collection = Collection.objects.filter(pk=event.collection_id).first()
    version = _version_of(event, collection)
    index = event.data.get("index")
    version_path = None
    if collection is not None and index is not None:
        version_path = format_path(
            registry.organization.name, registry.name, collection.name, f"v{index}"
        )
    return {
        "event_type": ACTION_EVENTS[event.action].value,
        "event_id": event.pk,
        "timestamp": event.created_at.isoformat(),
        "author": event.actor.get_username() if event.actor else None,
        "organization": registry.organization.name,
        "registry": registry.name,
        "collection": collection.name if collection else None,
        "version_path": version_path,
        "version_index": index,
        "source_path": version.source_path if version else None,
        "alias": event.data.get("alias"),
        "tag": event.data.get("tag"),
        "metadata": version.metadata if version and isinstance(version.metadata, dict) else {},
    }


def on_audit_event(event: AuditEvent) -> None:
    event_type = ACTION_EVENTS.get(event.action)
    if event_type is None or event.registry_id is None:
        return
    automations = matching_automations(event, event_type)
    if not automations:
        return

    context = event_context(event)
    for automation in automations:
        execution = Execution.objects.create(
            automation=automation,
            event=event,
            event_type=event_type,
            body=payloads.render(automation.payload_template, context),
        )
        logger.info(
            "Execution %s created for automation %s on event %s (%s)",
            execution.pk,
            automation.pk,
            event.pk,
            event_type.value,
        )
        # robust: a broker that is down must not turn a committed write into an error page;
        # the sweeper task picks the execution up later.
        transaction.on_commit(partial(enqueue_delivery, execution.pk), robust=True)
