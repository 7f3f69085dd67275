"""Every write to webhook integrations and automations, and the "Test" sends.

Each write checks the permission and the input, writes inside one transaction and records an
AuditEvent there. Audit rows and logs name an integration's host, never its URL path, token
or secret, because webhook URLs often carry a credential of their own.
"""

import logging
import uuid
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.audit.services import record_event
from apps.automations import crypto, delivery, payloads
from apps.automations.models import Automation, EventType, WebhookIntegration
from apps.automations.targets import check_target, split_url
from apps.automations.validators import validate_alias_pattern
from apps.core.validators import validate_name
from apps.orgs.models import Team, TeamMembership, TeamRole
from apps.registry.models import Collection, Registry
from apps.registry.paths import format_path
from apps.registry.permissions import can_change, require_change

logger = logging.getLogger(__name__)


class _Keep:
    """The default of update arguments: leave the field as it is."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP: Any = _Keep()


# Integrations -------------------------------------------------------------------------------


def is_team_admin(user, team: Team) -> bool:
    return TeamMembership.objects.filter(team=team, user=user, role=TeamRole.ADMIN).exists()


def require_team_admin(user, team: Team, action: str = "Managing integrations") -> None:
    if not getattr(user, "is_authenticated", False) or not is_team_admin(user, team):
        raise PermissionDenied(
            f"{action} of the team '{team.name}' needs the team's admin role; ask one of its "
            f"admins."
        )


def _host(url: str) -> str:
    try:
        return split_url(url)[1]
    except ValidationError:
        return ""


def _audit_integration(integration: WebhookIntegration, actor, action: str, data: dict) -> None:
    team = integration.team
    record_event(
        organization_id=team.organization_id,
        actor=actor,
        action=action,
        target=f"{team.name}/{integration.name}",
        data={"team_id": team.pk, "integration_id": integration.pk, **data},
    )


def _duplicate_integration(team: Team, name: str) -> ValidationError:
    return ValidationError(
        f"The team '{team.name}' already has an integration named '{name}' (names are "
        f"compared without regard to case); choose another name."
    )


@transaction.atomic
def create_integration(
    *,
    team: Team,
    name: str,
    url: str,
    access_token: str = "",
    signing_secret: str = "",
    actor,
) -> WebhookIntegration:
    """Add a webhook endpoint to a team; the URL's host must resolve to public addresses."""
    require_team_admin(actor, team, "Adding integrations")
    validate_name(name, kind="integration name")
    target = check_target(url)
    try:
        with transaction.atomic():
            integration = WebhookIntegration.objects.create(
                team=team,
                name=name,
                url=url,
                access_token_encrypted=crypto.encrypt(access_token),
                signing_secret_encrypted=crypto.encrypt(signing_secret),
                created_by=actor,
            )
    except IntegrityError:
        raise _duplicate_integration(team, name) from None
    _audit_integration(
        integration,
        actor,
        "integration.created",
        {
            "host": target.host,
            "has_access_token": bool(access_token),
            "has_signing_secret": bool(signing_secret),
        },
    )
    return integration


@transaction.atomic
def update_integration(
    *,
    integration: WebhookIntegration,
    actor,
    name: str = KEEP,
    url: str = KEEP,
    access_token: str = KEEP,
    signing_secret: str = KEEP,
) -> WebhookIntegration:
    """Change an integration; an empty access token or signing secret removes it."""
    require_team_admin(actor, integration.team, "Changing integrations")
    changes: dict[str, object] = {}
    if name is not KEEP and name != integration.name:
        changes["name"] = validate_name(name, kind="integration name")
    if url is not KEEP and url != integration.url:
        check_target(url)
        changes["url"] = url
    if access_token is not KEEP:
        changes["access_token_encrypted"] = crypto.encrypt(access_token)
    if signing_secret is not KEEP:
        changes["signing_secret_encrypted"] = crypto.encrypt(signing_secret)
    if not changes:
        return integration

    for field, value in changes.items():
        setattr(integration, field, value)
    try:
        with transaction.atomic():
            integration.save(update_fields=[*changes, "updated_at"])
    except IntegrityError:
        raise _duplicate_integration(integration.team, str(name)) from None
    # The field names only: the values of the secret fields never reach the audit log.
    fields = sorted(f.removesuffix("_encrypted") for f in changes)
    data = {"fields": fields, "host": _host(integration.url)}
    _audit_integration(integration, actor, "integration.updated", data)
    return integration


@transaction.atomic
def delete_integration(*, integration: WebhookIntegration, actor) -> None:
    """Delete an integration; the automations that used it stay but send nothing."""
    require_team_admin(actor, integration.team, "Deleting integrations")
    used_by = integration.automations.count()
    _audit_integration(
        integration,
        actor,
        "integration.deleted",
        {"host": _host(integration.url), "automations": used_by},
    )
    integration.delete()


def test_integration(*, integration: WebhookIntegration, actor) -> delivery.SendResult:
    """Send the default payload with sample values to the integration, once."""
    require_team_admin(actor, integration.team, "Testing integrations")
    team = integration.team
    context = sample_context(
        organization_name=team.organization.name,
        registry_name="example",
        collection_name="example-collection",
        event_type=EventType.VERSION_LINKED,
        actor=actor,
    )
    body = payloads.render(payloads.DEFAULT_TEMPLATE, context)
    return _send_test(integration, body, actor)


def _send_test(integration: WebhookIntegration, body: str, actor) -> delivery.SendResult:
    delivery_id = f"test-{uuid.uuid4().hex[:12]}"
    result = delivery.send(integration, body, event_type="test", delivery_id=delivery_id)
    logger.info(
        "Test send %s to integration %s by user %s: status %s, %s ms%s",
        delivery_id,
        integration.pk,
        getattr(actor, "pk", None),
        result.response_code,
        result.duration_ms,
        f": {result.error}" if result.error else "",
    )
    return result


# Automations --------------------------------------------------------------------------------


def require_member(user, registry: Registry, action: str) -> None:
    """Raise PermissionDenied unless the user is a Member of the registry or higher.

    Entry points call it before they read a write's input, so that a Viewer learns about the
    missing role rather than about a choice of integration they cannot make. The write
    services check again, together with the write pause, inside their transaction.
    """
    if not can_change(user, registry):
        raise PermissionDenied(
            f"{action} in the registry '{registry.name}' needs the Member role; ask one of "
            f"its admins for it."
        )


def sample_context(
    *,
    organization_name: str,
    registry_name: str,
    collection_name: str,
    event_type: str,
    actor,
) -> dict[str, Any]:
    """Template variables with made-up values, for validating templates and test sends."""
    return {
        "event_type": str(event_type),
        "event_id": 0,
        "timestamp": timezone.now().isoformat(),
        "author": actor.get_username() if getattr(actor, "is_authenticated", False) else None,
        "organization": organization_name,
        "registry": registry_name,
        "collection": collection_name,
        "version_path": format_path(organization_name, registry_name, collection_name, "v0"),
        "version_index": 0,
        "source_path": f"example-team/example-project/{collection_name}:v0",
        "alias": "production" if event_type == EventType.ALIAS_ADDED else None,
        "tag": "candidate" if event_type in (EventType.TAG_ADDED, EventType.TAG_REMOVED) else None,
        "metadata": {"accuracy": 0.93},
    }


def _automation_sample_context(
    registry: Registry, collection: Collection | None, event_type: str, actor
) -> dict[str, Any]:
    return sample_context(
        organization_name=registry.organization.name,
        registry_name=registry.name,
        collection_name=collection.name if collection else "example-collection",
        event_type=event_type,
        actor=actor,
    )


def _check_event_type(event_type: str) -> str:
    if event_type not in EventType.values:
        choices = ", ".join(EventType.values)
        raise ValidationError(f"'{event_type}' is not an event; choose one of {choices}.")
    return event_type


def _check_collection(registry: Registry, collection: Collection | None) -> None:
    if collection is not None and collection.registry_id != registry.pk:
        raise ValidationError(
            f"The collection '{collection.name}' is not in the registry '{registry.name}'."
        )


def _check_alias_pattern(event_type: str, pattern: str) -> str:
    if not pattern:
        return ""
    if event_type != EventType.ALIAS_ADDED:
        raise ValidationError(
            "An alias pattern only applies to the event 'An alias is added'; clear it or "
            "choose that event."
        )
    return validate_alias_pattern(pattern)


def _check_integration(integration: WebhookIntegration, registry: Registry, actor) -> None:
    usable = WebhookIntegration.objects.usable_by(actor).filter(
        pk=integration.pk, team__organization_id=registry.organization_id
    )
    if not usable.exists():
        raise ValidationError(
            f"The integration '{integration.name}' cannot be used here: pick an integration "
            f"of a team you are an admin or member of, in this organization."
        )


def _duplicate_automation(registry: Registry, name: str) -> ValidationError:
    return ValidationError(
        f"The registry '{registry.name}' already has an automation named '{name}' (names are "
        f"compared without regard to case); choose another name."
    )


def _audit_automation(automation: Automation, actor, action: str, data: dict) -> None:
    record_event(
        organization_id=automation.registry.organization_id,
        actor=actor,
        action=action,
        target=automation.name,
        registry_id=automation.registry_id,
        collection_id=automation.collection_id,
        data={"automation_id": automation.pk, **data},
    )


@transaction.atomic
def create_automation(
    *,
    registry: Registry,
    name: str,
    event_type: str,
    integration: WebhookIntegration,
    collection: Collection | None = None,
    alias_pattern: str = "",
    payload_template: str = payloads.DEFAULT_TEMPLATE,
    description: str = "",
    actor,
) -> Automation:
    """Create an automation on a registry (every collection) or on one of its collections."""
    require_change(actor, registry, "Creating an automation")
    validate_name(name, kind="automation name")
    _check_event_type(event_type)
    _check_collection(registry, collection)
    alias_pattern = _check_alias_pattern(event_type, alias_pattern)
    _check_integration(integration, registry, actor)
    payloads.validate_template(
        payload_template, _automation_sample_context(registry, collection, event_type, actor)
    )

    try:
        with transaction.atomic():
            automation = Automation.objects.create(
                registry=registry,
                collection=collection,
                name=name,
                description=description,
                event_type=event_type,
                alias_pattern=alias_pattern,
                integration=integration,
                payload_template=payload_template,
                created_by=actor,
            )
    except IntegrityError:
        raise _duplicate_automation(registry, name) from None
    _audit_automation(
        automation,
        actor,
        "automation.created",
        {"event_type": event_type, "integration_id": integration.pk},
    )
    return automation


@transaction.atomic
def update_automation(
    *,
    automation: Automation,
    actor,
    name: str = KEEP,
    description: str = KEEP,
    event_type: str = KEEP,
    collection: Collection | None = KEEP,
    alias_pattern: str = KEEP,
    integration: WebhookIntegration = KEEP,
    payload_template: str = KEEP,
    is_enabled: bool = KEEP,
) -> Automation:
    registry = automation.registry
    require_change(actor, registry, "Changing an automation")
    requested = {
        "name": name,
        "description": description,
        "event_type": event_type,
        "collection": collection,
        "alias_pattern": alias_pattern,
        "integration": integration,
        "payload_template": payload_template,
        "is_enabled": is_enabled,
    }
    changes = {
        field: value
        for field, value in requested.items()
        if value is not KEEP and value != getattr(automation, field)
    }
    if not changes:
        return automation

    if "name" in changes:
        validate_name(name, kind="automation name")
    new_event = _check_event_type(changes.get("event_type", automation.event_type))
    new_collection = changes.get("collection", automation.collection)
    _check_collection(registry, new_collection)
    new_pattern = changes.get("alias_pattern", automation.alias_pattern)
    if new_event != EventType.ALIAS_ADDED and "alias_pattern" not in changes and new_pattern:
        # The pattern of a former alias automation means nothing for the new event.
        changes["alias_pattern"] = new_pattern = ""
    _check_alias_pattern(new_event, new_pattern)
    if "integration" in changes:
        if changes["integration"] is None:
            raise ValidationError("Choose the integration that the automation sends to.")
        _check_integration(changes["integration"], registry, actor)
    payloads.validate_template(
        changes.get("payload_template", automation.payload_template),
        _automation_sample_context(registry, new_collection, new_event, actor),
    )

    for field, value in changes.items():
        setattr(automation, field, value)
    try:
        with transaction.atomic():
            automation.save(update_fields=[*changes, "updated_at"])
    except IntegrityError:
        raise _duplicate_automation(registry, str(name)) from None
    _audit_automation(automation, actor, "automation.updated", {"fields": sorted(changes)})
    return automation


@transaction.atomic
def delete_automation(*, automation: Automation, actor) -> None:
    """Delete an automation with its execution history."""
    require_change(actor, automation.registry, "Deleting an automation")
    _audit_automation(automation, actor, "automation.deleted", {})
    automation.delete()


def test_automation(*, automation: Automation, actor) -> delivery.SendResult:
    """Send the automation's payload, rendered with sample values, to its integration once."""
    registry = automation.registry
    # A test writes nothing, so it needs the Member role but works during a write pause.
    require_member(actor, registry, "Testing an automation")
    if automation.integration is None:
        raise ValidationError(
            "The automation has no integration (it was deleted); choose another one first."
        )
    context = _automation_sample_context(
        registry, automation.collection, automation.event_type, actor
    )
    body = payloads.render(automation.payload_template, context)
    return _send_test(automation.integration, body, actor)
