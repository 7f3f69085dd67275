"""Writes to organizations, teams and their memberships.

Membership rows and the auth groups that registry grants point at change together here, in
one transaction, so removing someone from a team removes the access that came through the
team on the very next request.
"""

import hashlib
import hmac
import logging
import re
import secrets
import string
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from apps.core.validators import validate_name, validate_visible_text
from apps.orgs.models import (
    ApiKey,
    Organization,
    OrgMembership,
    OrgRole,
    Profile,
    ServiceAccount,
    Team,
    TeamMembership,
    TeamRole,
)
from apps.orgs.support import is_support
from apps.orgs.timezones import forget_time_zone_name, validate_time_zone

logger = logging.getLogger(__name__)


def ensure_org_groups(organization: Organization) -> Organization:
    """Create the organization's members and admins groups when it has none yet."""
    changed = []
    if organization.members_group_id is None:
        organization.members_group = Group.objects.create(name=f"org-{organization.pk}-members")
        changed.append("members_group")
    if organization.admins_group_id is None:
        organization.admins_group = Group.objects.create(name=f"org-{organization.pk}-admins")
        changed.append("admins_group")
    if changed:
        organization.save(update_fields=changed)
    return organization


def add_org_member(*, organization: Organization, user, role: str = OrgRole.MEMBER):
    if role not in OrgRole.values:
        raise ValidationError(f"'{role}' is not an organization role; use admin, member or viewer.")
    with transaction.atomic():
        ensure_org_groups(organization)
        membership, _ = OrgMembership.objects.update_or_create(
            organization=organization, user=user, defaults={"role": role}
        )
        user.groups.add(organization.members_group)
        if role == OrgRole.ADMIN:
            user.groups.add(organization.admins_group)
        else:
            user.groups.remove(organization.admins_group)
    return membership


def remove_org_member(*, organization: Organization, user) -> None:
    """Take a user out of the organization and of all its teams."""
    with transaction.atomic():
        for membership in TeamMembership.objects.filter(
            team__organization=organization, user=user
        ).select_related("team"):
            remove_team_member(team=membership.team, user=user)
        OrgMembership.objects.filter(organization=organization, user=user).delete()
        groups = [g for g in (organization.members_group, organization.admins_group) if g]
        user.groups.remove(*groups)


def create_team(*, organization: Organization, name: str) -> Team:
    validate_name(name, kind="team name")
    with transaction.atomic():
        team = Team.objects.create(organization=organization, name=name)
        team.group = Group.objects.create(name=f"team-{team.pk}")
        team.save(update_fields=["group"])
    return team


def add_team_member(*, team: Team, user, role: str = TeamRole.MEMBER) -> TeamMembership:
    if role not in TeamRole.values:
        raise ValidationError(f"'{role}' is not a team role; use admin, member or viewer.")
    if not OrgMembership.objects.filter(organization=team.organization_id, user=user).exists():
        raise ValidationError(
            f"{user.username} is not a member of the organization; add them to it first."
        )
    with transaction.atomic():
        membership, _ = TeamMembership.objects.update_or_create(
            team=team, user=user, defaults={"role": role}
        )
        if team.group_id:
            user.groups.add(team.group)
    return membership


def remove_team_member(*, team: Team, user) -> None:
    with transaction.atomic():
        TeamMembership.objects.filter(team=team, user=user).delete()
        if team.group_id:
            user.groups.remove(team.group)


def create_service_account(*, team: Team, name: str, description: str = "") -> ServiceAccount:
    """Create a non-human user in the team; it signs in only with API keys."""
    validate_name(name, kind="service account name")
    user_model = get_user_model()
    if user_model.objects.filter(username__iexact=name).exists():
        raise ValidationError(f"The name '{name}' is already taken by a user; choose another.")
    with transaction.atomic():
        user = user_model.objects.create_user(username=name)
        user.set_unusable_password()
        user.save(update_fields=["password"])
        account = ServiceAccount.objects.create(team=team, user=user, description=description)
        add_org_member(organization=team.organization, user=user, role=OrgRole.MEMBER)
        add_team_member(team=team, user=user, role=TeamRole.MEMBER)
    return account


# Time zones ---------------------------------------------------------------------------------


def set_time_zone(*, user, time_zone: str) -> Profile:
    """Set the zone a person reads and enters times in; blank falls back to the organization's."""
    validate_time_zone(time_zone)
    profile, _ = Profile.objects.update_or_create(user=user, defaults={"time_zone": time_zone})
    # The zone was looked up and kept on this user object earlier in the request.
    forget_time_zone_name(user)
    logger.info("User %s set the time zone %r", user.pk, time_zone)
    return profile


def set_organization_time_zone(*, organization: Organization, time_zone: str, actor) -> None:
    """Set the zone members without a zone of their own see times in; org admins and support."""
    is_admin = OrgMembership.objects.filter(
        organization=organization, user=actor, role=OrgRole.ADMIN
    ).exists()
    if not (is_admin or is_support(actor)):
        raise PermissionDenied(f"Only admins of {organization.name} can set its default time zone.")
    validate_time_zone(time_zone)
    Organization.objects.filter(pk=organization.pk).update(default_time_zone=time_zone)
    organization.default_time_zone = time_zone
    logger.info(
        "User %s set the default time zone of organization %s to %r",
        getattr(actor, "pk", None),
        organization.pk,
        time_zone,
    )


# API keys -----------------------------------------------------------------------------------

API_KEY_PREFIX = "reg"
API_KEY_SECRET_LENGTH = 48
# Characters of the secret stored in the clear and listed, to tell keys apart.
API_KEY_SHOWN_CHARACTERS = 8
API_KEY_ALPHABET = string.ascii_letters + string.digits + "_"
# The W&B SDK accepts `[prefix-]secret` keys whose secret has 40 or more of these characters.
API_KEY_PATTERN = re.compile(
    r"^(?:(?P<prefix>[A-Za-z0-9_-]{1,16})-)?(?P<secret>[A-Za-z0-9_]{40,})$"
)
# last_used_at is written at most this often per key, so reads do not each cost a write.
API_KEY_TOUCH_INTERVAL = timedelta(minutes=1)


def hash_api_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_api_key(*, user, name: str) -> tuple[ApiKey, str]:
    """Create a key for a user or a service account; return the row and the full key.

    The full key exists only in the return value: the database keeps its hash.
    """
    name = name.strip()
    if not name:
        raise ValidationError("The key name is empty; name the key after where it is used.")
    if len(name) > ApiKey._meta.get_field("name").max_length:
        raise ValidationError("The key name is longer than 100 characters; shorten it.")
    validate_visible_text(name, kind="key name")
    if not user.is_active:
        raise ValidationError(f"{user.username} is deactivated; keys cannot be created for them.")
    secret = "".join(secrets.choice(API_KEY_ALPHABET) for _ in range(API_KEY_SECRET_LENGTH))
    with transaction.atomic():
        # Locking the owner's row makes two requests with the same name wait for each other
        # on PostgreSQL, so the second one finds the first key.
        get_user_model().objects.select_for_update().filter(pk=user.pk).first()
        duplicate = ApiKey.objects.filter(
            user=user, revoked_at__isnull=True, name__iexact=name
        ).first()
        if duplicate is not None:
            message = (
                f"{user.username} already has an active API key named {duplicate.name!r}; "
                f"choose another name, or revoke that key first."
            )
            raise ValidationError(message, code="duplicate_name")
        key = ApiKey.objects.create(
            user=user,
            name=name,
            prefix=API_KEY_PREFIX,
            secret_start=secret[:API_KEY_SHOWN_CHARACTERS],
            hashed_secret=hash_api_secret(secret),
        )
    logger.info("API key %s created for user %s", key.pk, user.pk)
    return key, f"{API_KEY_PREFIX}-{secret}"


def revoke_api_key(*, key: ApiKey, actor) -> None:
    """Revoke a key; only its owner may. Revoking twice changes nothing."""
    if key.user_id != getattr(actor, "pk", None):
        raise PermissionDenied("Only the owner of an API key can revoke it.")
    if key.revoked_at is None:
        ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
        key.refresh_from_db(fields=["revoked_at"])
        logger.info("API key %s revoked by user %s", key.pk, actor.pk)


def authenticate_api_key(raw: str) -> ApiKey | None:
    """The active key a client sent, with its user, or None when it is unknown or revoked.

    Records the time of use, at most once per API_KEY_TOUCH_INTERVAL for each key.
    """
    match = API_KEY_PATTERN.match(raw or "")
    if match is None:
        return None
    digest = hash_api_secret(match.group("secret"))
    key = (
        ApiKey.objects.select_related("user")
        .filter(hashed_secret=digest, revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    # The lookup matched on the digest already; comparing again in constant time keeps the
    # prefix check and the final decision free of early exits.
    if key is None or not hmac.compare_digest(key.hashed_secret, digest):
        return None
    if not hmac.compare_digest(key.prefix, match.group("prefix") or key.prefix):
        return None
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at >= API_KEY_TOUCH_INTERVAL:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key
