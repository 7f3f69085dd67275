"""Who counts as support staff."""

from django.db.models import BooleanField, Exists, Q, Value

SUPPORT_PERMISSION = "orgs.support_console"


def is_support(user) -> bool:
    """True for users holding the support permission, directly or through a group."""
    return bool(getattr(user, "is_authenticated", False) and user.has_perm(SUPPORT_PERMISSION))


def is_support_expression(user) -> Exists | Value:
    """Build is_support(user) as a boolean SQL expression, so a query can filter on it.

    It follows Django's ModelBackend like has_perm does: an active superuser has every
    permission, an inactive user has none, and anyone else has their own and their groups'
    permissions.
    """
    from django.contrib.auth.models import Permission

    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Value(False, output_field=BooleanField())
    if user.is_superuser:
        return Value(True, output_field=BooleanField())
    app_label, codename = SUPPORT_PERMISSION.split(".")
    granted = Permission.objects.filter(content_type__app_label=app_label, codename=codename)
    return Exists(granted.filter(Q(user=user) | Q(group__user=user)))
