"""The permission gate: every read of a protected model starts from one of these querysets.

A registry is visible to the members of its organization, and changeable by those of them
who are not org viewers. Collections, links and artifact versions are visible through their
registry, so a hidden registry hides everything under it.
"""

from django.db import models

WRITER_ORG_ROLES = ("admin", "member")


def _authenticated(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False)


class RegistryQuerySet(models.QuerySet):
    def visible_to(self, user) -> "RegistryQuerySet":
        if not _authenticated(user):
            return self.none()
        return self.filter(organization__memberships__user=user)

    def changeable_by(self, user) -> "RegistryQuerySet":
        if not _authenticated(user):
            return self.none()
        return self.filter(
            organization__memberships__user=user,
            organization__memberships__role__in=WRITER_ORG_ROLES,
        )


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
        """Source versions of the teams of organizations the user belongs to."""
        if not _authenticated(user):
            return self.none()
        return self.filter(artifact__project__team__organization__memberships__user=user)
