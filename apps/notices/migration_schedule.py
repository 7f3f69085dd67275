"""The notices of a team's migration to the new Registry, computed from its window.

Pure functions: they read settings for defaults but touch no database, so moving a window is
"compute the specs again and sync them". Stages, each ending where the next begins:

    announcement    info      window - 6 weeks (at once when scheduled later) to the reminder
    reminder        warning   window - 1 week to the final reminder
    final-reminder  critical  window - 1 day to the window
    pause           critical  window to completion; cannot be dismissed
    completed       info      completion to the moment the legacy view hides itself

The lead times are the settings MIGRATION_ANNOUNCEMENT_LEAD_DAYS, MIGRATION_REMINDER_LEAD_DAYS
and MIGRATION_FINAL_REMINDER_LEAD_HOURS. This module knows nothing of the migration app:
callers pass plain values and key the notices "migration:<plan id>:<stage>".
"""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from django.conf import settings

from apps.notices.models import Audience, Severity
from apps.notices.services import NoticeFields

# Characters that start emphasis, code or a link anywhere in a line. Markdown reads the
# others (#, -, +, >) only at the start of a line, and no name starts a line in these messages.
MARKDOWN_INLINE_SPECIAL = frozenset("\\`*_[]")


class Stage(StrEnum):
    ANNOUNCEMENT = "announcement"
    REMINDER = "reminder"
    FINAL_REMINDER = "final-reminder"
    PAUSE = "pause"
    COMPLETED = "completed"
    ABORTED = "aborted"


@dataclass(frozen=True)
class LeadTimes:
    """How long before the window each stage's notice starts."""

    announcement: timedelta = timedelta(weeks=6)
    reminder: timedelta = timedelta(weeks=1)
    final_reminder: timedelta = timedelta(days=1)

    @classmethod
    def from_settings(cls) -> "LeadTimes":
        return cls(
            announcement=timedelta(days=settings.MIGRATION_ANNOUNCEMENT_LEAD_DAYS),
            reminder=timedelta(days=settings.MIGRATION_REMINDER_LEAD_DAYS),
            final_reminder=timedelta(hours=settings.MIGRATION_FINAL_REMINDER_LEAD_HOURS),
        )


@dataclass(frozen=True)
class NoticeSpec:
    """One notice of the timeline, with its text and times; the caller picks the audience."""

    stage: Stage
    severity: Severity
    starts_at: datetime
    ends_at: datetime | None
    dismissible: bool
    message: str
    link_url: str = ""
    link_label: str = ""
    event_at: datetime | None = None
    event_label: str = ""

    def to_fields(self, *, audience: str, **targets) -> NoticeFields:
        """Build the notice write for this spec, for `audience` and its targets."""
        return NoticeFields(
            message=self.message,
            severity=self.severity,
            starts_at=self.starts_at,
            ends_at=self.ends_at,
            audience=audience,
            link_url=self.link_url,
            link_label=self.link_label,
            dismissible=self.dismissible,
            event_at=self.event_at,
            event_label=self.event_label,
            **targets,
        )


@dataclass(frozen=True)
class MigrationFacts:
    """Facts about one team's migration that its notices mention."""

    team_name: str  # "nlp-team", the team whose legacy Model Registry moves
    legacy_path: str  # "nlp-team/model-registry"
    new_path: str  # "acme/wandb-registry-nlp-team"
    registry_name: str  # "nlp-team", the new registry's name
    new_registry_url: str = ""  # link to the new registry's page, once it exists


def migration_notice_specs(
    *,
    window_start: datetime,
    expected_pause: timedelta,
    facts: MigrationFacts,
    scheduled_at: datetime,
    completed_at: datetime | None = None,
    retention: timedelta | None = None,
    lead_times: LeadTimes | None = None,
) -> list[NoticeSpec]:
    """Compute the notices of a migration whose write pause starts at `window_start`.

    A stage whose start is before `scheduled_at` starts at `scheduled_at` instead. A stage
    that would be over by then is left out, and so is a pause that ended as it began. The list
    therefore holds only notices that can show.
    `retention` (default: the LEGACY_RETENTION_DAYS setting) sets when the completed banner
    ends, since that is when the legacy view hides itself.
    """
    lead = lead_times or LeadTimes.from_settings()
    if retention is None:
        retention = timedelta(days=settings.LEGACY_RETENTION_DAYS)
    if completed_at is not None and completed_at < window_start:
        raise ValueError(f"completed_at {completed_at} is before the window {window_start}")

    # The notices reach the team's members and the org admins outside the team, so they name
    # the team instead of saying "your team".
    team = escape_markdown(facts.team_name)
    registry_name = escape_markdown(facts.registry_name)
    legacy_path = code_span(facts.legacy_path)
    new_path = code_span(facts.new_path)
    pause_words = duration_words(expected_pause)
    what_happens = (
        f"Writes to {legacy_path} pause for about {pause_words} while it is copied to "
        f"the new registry **{registry_name}** ({new_path}); reading goes on. "
        f"Afterwards the old paths keep working and lead to the same versions under "
        f"{new_path}."
    )
    before_window = [
        (
            Stage.ANNOUNCEMENT,
            Severity.INFO,
            window_start - lead.announcement,
            window_start - lead.reminder,
            f"**The {team} Model Registry moves to the new Registry.** {what_happens}",
        ),
        (
            Stage.REMINDER,
            Severity.WARNING,
            window_start - lead.reminder,
            window_start - lead.final_reminder,
            f"**Reminder: the {team} Model Registry moves to the new Registry soon.** "
            + what_happens,
        ),
        (
            Stage.FINAL_REMINDER,
            Severity.CRITICAL,
            window_start - lead.final_reminder,
            window_start,
            f"**The {team} Model Registry moves to the new Registry shortly.** {what_happens} "
            "Finish or hold back writes before the pause starts.",
        ),
    ]
    specs = []
    for stage, severity, starts_at, ends_at, message in before_window:
        starts_at = max(starts_at, scheduled_at)
        if starts_at >= ends_at:
            continue
        specs.append(
            NoticeSpec(
                stage=stage,
                severity=severity,
                starts_at=starts_at,
                ends_at=ends_at,
                dismissible=True,
                message=message,
                event_at=window_start,
                event_label="Writes pause",
            )
        )

    pause_starts_at = max(window_start, scheduled_at)
    if completed_at is None or pause_starts_at < completed_at:
        specs.append(
            NoticeSpec(
                stage=Stage.PAUSE,
                severity=Severity.CRITICAL,
                starts_at=pause_starts_at,
                ends_at=completed_at,
                dismissible=False,
                message=(
                    f"**Writes to {legacy_path} are paused** while it is copied to the new "
                    f"registry **{registry_name}** ({new_path}). Reading goes on; "
                    "writes are rejected until the copy is complete."
                ),
                event_at=window_start + expected_pause,
                event_label="Expected to finish",
            )
        )

    if completed_at is not None and retention > timedelta(0):
        hidden_at = completed_at + retention
        specs.append(
            NoticeSpec(
                stage=Stage.COMPLETED,
                severity=Severity.INFO,
                starts_at=completed_at,
                ends_at=hidden_at,
                dismissible=True,
                message=(
                    f"**The {team} Model Registry now lives in the registry {registry_name}** "
                    f"({new_path}). The old view "
                    f"{legacy_path} is read-only and will be hidden; its paths keep "
                    "working and lead to the new registry."
                ),
                link_url=facts.new_registry_url,
                link_label=f"Open {facts.registry_name}" if facts.new_registry_url else "",
                event_at=hidden_at,
                event_label="Old view hidden",
            )
        )
    return specs


def migration_aborted_spec(
    *, aborted_at: datetime, facts: MigrationFacts, shown_for: timedelta = timedelta(days=7)
) -> NoticeSpec:
    """Build the notice that replaces a migration's timeline when support cancels it."""
    legacy_path = code_span(facts.legacy_path)
    return NoticeSpec(
        stage=Stage.ABORTED,
        severity=Severity.INFO,
        starts_at=aborted_at,
        ends_at=aborted_at + shown_for,
        dismissible=True,
        message=(
            f"**The move of {legacy_path} to the new Registry was cancelled.** "
            "The Model Registry is writable again and nothing in it changed; a new date will "
            "be announced here."
        ),
    )


def migration_key_prefix(plan_id: int) -> str:
    return f"migration:{plan_id}:"


def team_notice_values(specs: list[NoticeSpec], *, plan_id: int, team) -> dict[str, NoticeFields]:
    """Turn the specs into notice writes for the team's members and its org admins."""
    prefix = migration_key_prefix(plan_id)
    return {
        f"{prefix}{spec.stage}": spec.to_fields(
            audience=Audience.TEAM_AND_ORG_ADMINS, team=team, organization=team.organization
        )
        for spec in specs
    }


def escape_markdown(text: str) -> str:
    """Escape the characters that Markdown would read as emphasis, code, links or HTML.

    Names may contain `*`, `_` or backticks, which would otherwise turn a team or registry
    name inside a message into formatting.
    """
    escaped = "".join(f"\\{char}" if char in MARKDOWN_INLINE_SPECIAL else char for char in text)
    return escaped.replace("<", "&lt;")


def code_span(text: str) -> str:
    """Wrap the text in a Markdown code span whose fence is longer than any backtick run in it."""
    longest_run = max((len(run) for run in re.findall("`+", text)), default=0)
    fence = "`" * (longest_run + 1)
    if longest_run:
        # Spaces keep a backtick at either end of the text from joining the fence.
        return f"{fence} {text} {fence}"
    return f"{fence}{text}{fence}"


def duration_words(span: timedelta) -> str:
    """Write a pause length in words, rounded up: "45 minutes", "4 hours", "2 days"."""
    minutes = max(1, -(-int(span.total_seconds()) // 60))
    if minutes < 60:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    hours = -(-minutes // 60)
    if hours < 48:
        return f"{hours} hour{'s' if hours != 1 else ''}"
    days = -(-hours // 24)
    return f"{days} days"
