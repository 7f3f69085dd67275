from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.db.models.functions import Lower

from apps.orgs.timezones import validate_time_zone


class OrgRole(models.TextChoices):
    ADMIN = "admin", "Admin"
    MEMBER = "member", "Member"
    VIEWER = "viewer", "Viewer"


class TeamRole(models.TextChoices):
    ADMIN = "admin", "Admin"
    MEMBER = "member", "Member"
    VIEWER = "viewer", "Viewer"


class Organization(models.Model):
    name = models.CharField(max_length=128)
    display_name = models.CharField(max_length=200, blank=True)
    # Every member is in members_group and every org admin also in admins_group; registry
    # grants to these groups are how Organization visibility and org-admin rights work.
    members_group = models.OneToOneField(
        Group, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    admins_group = models.OneToOneField(
        Group, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # IANA name of the zone members see times in unless their profile names one; blank: UTC.
    default_time_zone = models.CharField(max_length=64, blank=True, validators=[validate_time_zone])
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        permissions = [
            # Support staff hold this model-wide permission (no superuser needed): it opens
            # the support console for migrations and notices.
            ("support_console", "Use the support console"),
        ]
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                name="organization_name_unique_ci",
                violation_error_message="An organization with this name already exists.",
            )
        ]

    def __str__(self) -> str:
        return self.name


class OrgMembership(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="org_memberships"
    )
    role = models.CharField(max_length=16, choices=OrgRole.choices, default=OrgRole.MEMBER)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "user"], name="org_membership_unique_user"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.organization} ({self.role})"


class Team(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="teams")
    name = models.CharField(max_length=128)
    # The team's members, kept in step by apps.orgs.services; registry roles granted to the
    # team are granted to this group.
    group = models.OneToOneField(
        Group, on_delete=models.PROTECT, null=True, blank=True, related_name="team"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                "organization",
                Lower("name"),
                name="team_name_unique_ci_in_org",
                violation_error_message="A team with this name already exists.",
            )
        ]

    def __str__(self) -> str:
        return self.name


class TeamMembership(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="team_memberships"
    )
    role = models.CharField(max_length=16, choices=TeamRole.choices, default=TeamRole.MEMBER)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="team_membership_unique_user")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.team} ({self.role})"


class ServiceAccount(models.Model):
    """A non-human member of a team; it acts through API keys as its own user row."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="service_accounts")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="service_account"
    )
    description = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.user} (service account of {self.team})"


class ApiKey(models.Model):
    """A secret that authenticates a user or a service account as `Authorization: Bearer KEY`.

    The key reads `PREFIX-SECRET`. Only the sha256 of the secret is stored, so a key is shown
    once, when it is created, and cannot be read back. The secret has 48 random characters,
    which makes a plain sha256 safe here: there is nothing to guess from a dictionary.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys"
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16)
    # The first characters of the secret, shown so that a person can tell keys apart. The
    # other 40 random characters keep the key unguessable. Blank for keys created before
    # it was stored.
    secret_start = models.CharField(max_length=8, blank=True, default="")
    hashed_secret = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "-created_at"], name="api_key_by_user")]

    def __str__(self) -> str:
        return f"{self.name} ({self.shown_start}…) of {self.user_id}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @property
    def shown_start(self) -> str:
        """The start of the key as listed, such as `reg-AbCd1234`, or the prefix for older keys."""
        if self.secret_start:
            return f"{self.prefix}-{self.secret_start}"
        return self.prefix


class Profile(models.Model):
    """Personal settings of a user; a user without a row has the defaults."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    # IANA name such as "Europe/Berlin"; blank falls back to the organization's default.
    time_zone = models.CharField(max_length=64, blank=True, validators=[validate_time_zone])

    def __str__(self) -> str:
        return f"profile of {self.user}"
