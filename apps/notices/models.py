"""Site notices (banners) and the record of who dismissed which revision of one.

A notice is shown while `starts_at <= now < ends_at` (an empty end means "until ended"); that
state is computed on every request, never flipped by a job.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.core.markdown import render_markdown
from apps.notices.querysets import NoticeQuerySet


class Severity(models.TextChoices):
    INFO = "info", "Info"
    WARNING = "warning", "Warning"
    CRITICAL = "critical", "Critical"


# Banners are listed most severe first.
SEVERITY_RANK = {Severity.CRITICAL: 0, Severity.WARNING: 1, Severity.INFO: 2}


class Audience(models.TextChoices):
    # Sign-in and other public pages show these notices too.
    EVERYONE = "everyone", "Everyone, including visitors who are not signed in"
    ORGANIZATION = "organization", "Members of an organization"
    TEAM = "team", "Members of a team"
    TEAM_AND_ORG_ADMINS = (
        "team-and-org-admins",
        "Members of a team and the admins of its organization",
    )
    ORG_ADMINS = "org-admins", "Admins of an organization"
    REGISTRY_ADMINS = "registry-admins", "Admins of a registry"


# The target fields (organization, team, registry) each audience requires. The others must
# be empty.
AUDIENCE_TARGETS: dict[str, tuple[str, ...]] = {
    Audience.EVERYONE: (),
    Audience.ORGANIZATION: ("organization",),
    Audience.ORG_ADMINS: ("organization",),
    Audience.TEAM: ("organization", "team"),
    Audience.TEAM_AND_ORG_ADMINS: ("organization", "team"),
    Audience.REGISTRY_ADMINS: ("organization", "registry"),
}


def _audience_target_rule() -> Q:
    rule = Q()
    for audience, targets in AUDIENCE_TARGETS.items():
        clause = Q(audience=audience)
        for name in ("organization", "team", "registry"):
            clause &= Q(**{f"{name}__isnull": name not in targets})
        rule |= clause
    return rule


class Notice(models.Model):
    message = models.TextField(help_text="Markdown; links and emphasis are kept, HTML is not.")
    severity = models.CharField(max_length=16, choices=Severity.choices, default=Severity.INFO)
    starts_at = models.DateTimeField()
    # Empty: shown until someone ends it (a migration's pause banner ends at completion).
    ends_at = models.DateTimeField(null=True, blank=True)

    audience = models.CharField(max_length=32, choices=Audience.choices)
    organization = models.ForeignKey(
        "orgs.Organization", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    team = models.ForeignKey(
        "orgs.Team", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    registry = models.ForeignKey(
        "registry.Registry", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )

    # An http(s) URL or a path on this site; checked by the services.
    link_url = models.CharField(max_length=500, blank=True)
    link_label = models.CharField(max_length=100, blank=True)
    dismissible = models.BooleanField(default=True)
    # A moment the notice is about (a migration window, a hide date), shown to each reader in
    # their own time zone next to `event_label`, so the message itself needs no clock time.
    event_at = models.DateTimeField(null=True, blank=True)
    event_label = models.CharField(max_length=100, blank=True)

    # Empty for notices written in the support console. Other apps key their own notices,
    # such as "migration:12:announcement", to find and update them without a foreign key.
    origin_key = models.CharField(max_length=200, blank=True)
    # Raised whenever what a reader sees changes, so an earlier dismissal no longer hides it.
    revision = models.PositiveIntegerField(default=1)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = NoticeQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["origin_key"],
                condition=~Q(origin_key=""),
                name="notice_origin_key_unique",
            ),
            models.CheckConstraint(
                condition=_audience_target_rule(),
                name="notice_audience_target",
                violation_error_message=(
                    "The audience does not match the organization, team and registry given."
                ),
            ),
        ]
        indexes = [models.Index(fields=["starts_at", "ends_at"], name="notice_time_window")]

    def __str__(self) -> str:
        first_line = self.message.strip().splitlines()[0] if self.message.strip() else ""
        return f"{self.get_severity_display()}: {first_line[:60]}"

    @property
    def message_html(self):
        return render_markdown(self.message)

    @property
    def origin_label(self) -> str:
        if not self.origin_key:
            return "support"
        return self.origin_key.split(":", 1)[0]

    def is_active(self, now) -> bool:
        return self.starts_at <= now and (self.ends_at is None or now < self.ends_at)

    def status(self, now) -> str:
        """ "scheduled", "active", "ended" or "cancelled" (ended before it started) at `now`."""
        if self.ends_at is not None and self.ends_at <= self.starts_at:
            return "cancelled"
        if self.ends_at is not None and self.ends_at <= now:
            return "ended"
        if now < self.starts_at:
            return "scheduled"
        return "active"


class Dismissal(models.Model):
    """A person's dismissal of one revision of a notice; later revisions show again."""

    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="dismissals")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notice_dismissals"
    )
    revision = models.PositiveIntegerField()
    dismissed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "notice", "revision"], name="dismissal_unique_revision"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} dismissed notice {self.notice_id} r{self.revision}"
