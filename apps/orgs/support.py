"""Who counts as support staff."""

SUPPORT_PERMISSION = "orgs.support_console"


def is_support(user) -> bool:
    """True for users holding the support permission, directly or through a group."""
    return bool(getattr(user, "is_authenticated", False) and user.has_perm(SUPPORT_PERMISSION))
