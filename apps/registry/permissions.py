"""Checks that a service runs before it writes; who holds what is read in querysets.py."""

from django.core.exceptions import PermissionDenied

from apps.registry.models import Registry
from apps.registry.roles import Role


def can_change(user, registry: Registry) -> bool:
    return Registry.objects.changeable_by(user).filter(pk=registry.pk).exists()


def can_administer(user, registry: Registry) -> bool:
    return Registry.objects.administrable_by(user).filter(pk=registry.pk).exists()


def can_download(user, registry: Registry) -> bool:
    return Registry.objects.downloadable_by(user).filter(pk=registry.pk).exists()


def _denied(registry: Registry, action: str, role: Role) -> PermissionDenied:
    return PermissionDenied(
        f"{action} in the registry '{registry.name}' needs the {role.label} role; ask one of "
        f"its admins for it."
    )


def require_change(user, registry: Registry, action: str = "Changing content") -> None:
    if not can_change(user, registry):
        raise _denied(registry, action, Role.MEMBER)


def require_admin(user, registry: Registry, action: str = "Changing settings") -> None:
    if not can_administer(user, registry):
        raise _denied(registry, action, Role.ADMIN)
