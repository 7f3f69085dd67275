"""Registry roles as named bundles of django-guardian object permissions.

A role is never stored as such: a grant writes the permissions of its bundle for a user or
a group on one registry, and the role shown anywhere is read back from those permissions.
"""

from enum import IntEnum

VIEW = "view_registry"
DOWNLOAD = "download_registry"
WRITE = "write_registry"
ADMIN = "admin_registry"

# Meta.permissions of Registry; the order is the order of the roles below.
REGISTRY_PERMISSIONS = [
    (VIEW, "See the registry, its collections, versions, settings and members"),
    (DOWNLOAD, "Download files and use versions from code"),
    (WRITE, "Create collections, link versions, move ordinary aliases, edit tags"),
    (ADMIN, "Change settings, members, protected aliases; delete the registry"),
]


class Role(IntEnum):
    RESTRICTED_VIEWER = 1
    VIEWER = 2
    MEMBER = 3
    ADMIN = 4

    @property
    def label(self) -> str:
        return self.name.replace("_", " ").title()

    @property
    def slug(self) -> str:
        return self.name.lower()

    @classmethod
    def from_slug(cls, slug: str) -> "Role":
        try:
            return cls[slug.upper().replace("-", "_").replace(" ", "_")]
        except KeyError:
            choices = ", ".join(role.slug for role in cls)
            raise ValueError(f"'{slug}' is not a role; choose one of: {choices}.") from None


BUNDLES: dict[Role, frozenset[str]] = {
    Role.RESTRICTED_VIEWER: frozenset({VIEW}),
    Role.VIEWER: frozenset({VIEW, DOWNLOAD}),
    Role.MEMBER: frozenset({VIEW, DOWNLOAD, WRITE}),
    Role.ADMIN: frozenset({VIEW, DOWNLOAD, WRITE, ADMIN}),
}

ROLE_CHOICES = [(role.slug, role.label) for role in Role]


def role_from_codenames(codenames) -> Role | None:
    """Return the highest role whose whole bundle is among the codenames, or None."""
    held = set(codenames)
    for role in sorted(Role, reverse=True):
        if BUNDLES[role] <= held:
            return role
    return None
