"""Checks that a service runs before it writes; the rules themselves live in querysets.py."""

from django.core.exceptions import PermissionDenied

from apps.registry.models import Registry


def can_change(user, registry: Registry) -> bool:
    return Registry.objects.changeable_by(user).filter(pk=registry.pk).exists()


def require_change(user, registry: Registry) -> None:
    if not can_change(user, registry):
        raise PermissionDenied(
            f"Changing the registry '{registry.name}' needs the Member role or higher; "
            f"ask one of its admins for access."
        )
