"""The permission gate: every read of a protected model starts from one of these querysets.

A registry is visible to a user who holds its view permission, directly or through one of
their groups (a team, the organization's members group while the registry has Organization
visibility, the organization's admins group). Collections, links and artifact versions are
visible through their registry, so a hidden registry hides everything under it.

Only object permissions on the registry count: a model-wide permission such as a
superuser's never widens these lists.
"""

from django.db import models
from django.db.models import Q

from apps.registry.roles import ADMIN, DOWNLOAD, VIEW, WRITE


def _authenticated(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False)


def _registries_with(user, codename: str) -> Q:
    from apps.registry.models import RegistryGroupObjectPermission, RegistryUserObjectPermission

    direct = RegistryUserObjectPermission.objects.filter(
        user=user, permission__codename=codename
    ).values("content_object_id")
    through_groups = RegistryGroupObjectPermission.objects.filter(
        group__user=user, permission__codename=codename
    ).values("content_object_id")
    return Q(pk__in=direct) | Q(pk__in=through_groups)


class RegistryQuerySet(models.QuerySet):
    def with_permission(self, user, codename: str) -> "RegistryQuerySet":
        if not _authenticated(user):
            return self.none()
        return self.filter(_registries_with(user, codename))

    def visible_to(self, user) -> "RegistryQuerySet":
        return self.with_permission(user, VIEW)

    def downloadable_by(self, user) -> "RegistryQuerySet":
        return self.with_permission(user, DOWNLOAD)

    def changeable_by(self, user) -> "RegistryQuerySet":
        return self.with_permission(user, WRITE)

    def administrable_by(self, user) -> "RegistryQuerySet":
        return self.with_permission(user, ADMIN)


def _visible_registry_ids(user):
    from apps.registry.models import Registry

    return Registry.objects.visible_to(user).values("pk")


class CollectionQuerySet(models.QuerySet):
    def visible_to(self, user) -> "CollectionQuerySet":
        if not _authenticated(user):
            return self.none()
        return self.filter(registry__in=_visible_registry_ids(user))


class CollectionLinkQuerySet(models.QuerySet):
    def visible_to(self, user) -> "CollectionLinkQuerySet":
        if not _authenticated(user):
            return self.none()
        return self.filter(collection__registry__in=_visible_registry_ids(user))


class ArtifactVersionQuerySet(models.QuerySet):
    def visible_to(self, user) -> "ArtifactVersionQuerySet":
        """Source versions of the teams the user is in, and versions linked where they see."""
        if not _authenticated(user):
            return self.none()
        from apps.registry.models import CollectionLink

        linked = CollectionLink.objects.visible_to(user).values("version_id")
        return self.filter(
            Q(artifact__project__team__memberships__user=user) | Q(pk__in=linked)
        ).distinct()
