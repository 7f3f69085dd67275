"""manage.py load_demo: the demo organization, its people, and an imported MLflow registry."""

import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from apps.orgs import services as org_services
from apps.orgs.models import (
    Organization,
    OrgMembership,
    OrgRole,
    Team,
    TeamMembership,
    TeamRole,
)
from apps.registry import services
from apps.registry.mlflow import MlflowStoreError, read_store
from apps.registry.mlflow_import import RegistryImporter, describe_files
from apps.registry.models import Registry, RegistryGroupObjectPermission
from apps.registry.roles import Role

ORGANIZATION = "acme"
PASSWORD = "demo-password"  # noqa: S105 (published demo accounts, DEBUG only)
SAMPLE_STORE = Path(settings.BASE_DIR) / "demo" / "mlflow-sample" / "mlruns"
NLP_TEAM_STORE = Path(settings.BASE_DIR) / "demo" / "mlflow-nlp-team" / "mlruns"
TEAMS = ("fraud-team", "nlp-team")


@dataclass(frozen=True)
class DemoAccount:
    username: str
    org_role: str | None  # None: not a member of the organization
    team: str | None = None
    team_role: str | None = None
    is_staff: bool = False

    @property
    def description(self) -> str:
        if self.is_staff:
            return "support staff (support console), in no organization"
        parts = [f"org {self.org_role}"]
        if self.team:
            parts.append(f"{self.team} {self.team_role}")
        return ", ".join(parts)


ACCOUNTS = (
    DemoAccount("admin", OrgRole.ADMIN),
    DemoAccount("alice", OrgRole.MEMBER, "fraud-team", TeamRole.ADMIN),
    DemoAccount("bob", OrgRole.MEMBER, "fraud-team", TeamRole.MEMBER),
    DemoAccount("dave", OrgRole.MEMBER, "nlp-team", TeamRole.ADMIN),
    DemoAccount("carol", OrgRole.VIEWER),
    DemoAccount("support", None, is_staff=True),
)


class Command(BaseCommand):
    help = (
        f"Load the demo: organization '{ORGANIZATION}', its teams and accounts (password "
        f"'{PASSWORD}'), and the sample MLflow registry imported into its 'model' registry. "
        f"Runs only with DEBUG on unless --force is given; running it again creates nothing "
        f"twice."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force",
            action="store_true",
            help="Load the demo even with DEBUG off, with its published passwords.",
        )

    def handle(self, *args, **options) -> None:
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "The demo has accounts with a published password, so it loads only with "
                "DEBUG on. Set DEBUG=1, or pass --force to load it anyway."
            )

        with transaction.atomic():
            organization = self._organization()
            teams = {name: self._team(organization, name) for name in TEAMS}
            users = {account.username: self._user(account) for account in ACCOUNTS}
            for account in ACCOUNTS:
                self._memberships(organization, teams, users[account.username], account)
            self._grant_teams(organization, teams.values(), users["admin"])
        self._import_sample(organization, teams["fraud-team"], users["admin"])
        self._fill_legacy_registries(teams, users["dave"])
        self._schedule_migration(teams["nlp-team"], users["support"])
        self._print_accounts()

    def _organization(self) -> Organization:
        organization = Organization.objects.filter(name__iexact=ORGANIZATION).first()
        if organization is None:
            organization = services.create_organization(name=ORGANIZATION, display_name="Acme Corp")
            self.stdout.write(f"Created the organization '{organization}'.")
        return organization

    def _team(self, organization: Organization, name: str) -> Team:
        team = Team.objects.filter(organization=organization, name__iexact=name).first()
        if team is None:
            team = org_services.create_team(organization=organization, name=name)
            self.stdout.write(f"Created the team '{team}'.")
        return team

    def _user(self, account: DemoAccount):
        user_model = get_user_model()
        user = user_model.objects.filter(username=account.username).first()
        if user is None:
            user = user_model.objects.create_user(
                username=account.username,
                password=PASSWORD,
                email=f"{account.username}@acme.example",
                is_staff=account.is_staff,
            )
            self.stdout.write(f"Created the user '{user.username}'.")
        if account.is_staff:
            # Support staff use the support console through this permission, not superuser.
            permission = Permission.objects.filter(
                content_type__app_label="orgs", codename="support_console"
            ).first()
            if permission is not None:
                user.user_permissions.add(permission)
        return user

    def _memberships(self, organization, teams, user, account: DemoAccount) -> None:
        """Add the account's memberships; ones that exist keep the role they have now."""
        if account.org_role is None:
            return
        if not OrgMembership.objects.filter(organization=organization, user=user).exists():
            org_services.add_org_member(organization=organization, user=user, role=account.org_role)
        team = teams.get(account.team)
        if team is not None and not TeamMembership.objects.filter(team=team, user=user).exists():
            org_services.add_team_member(team=team, user=user, role=account.team_role)

    def _grant_teams(self, organization: Organization, teams, admin) -> None:
        """Give each team the Member role on the core registries, once."""
        for registry in Registry.objects.filter(organization=organization, is_core=True):
            for team in teams:
                granted = RegistryGroupObjectPermission.objects.filter(
                    content_object=registry, group=team.group
                ).exists()
                if not granted:
                    services.add_member(
                        registry=registry, member=team, role=Role.MEMBER, actor=admin
                    )

    def _import_sample(self, organization: Organization, team: Team, admin) -> None:
        registry = Registry.objects.get(organization=organization, name="model")
        try:
            store = read_store(SAMPLE_STORE)
        except MlflowStoreError as error:
            raise CommandError(f"Cannot read the demo's MLflow store. {error}") from None
        report = RegistryImporter(store, registry=registry, team=team, actor=admin).run()
        self.stdout.write(
            f"Imported the MLflow sample into '{organization}/{registry}': "
            f"{len(report.collections_created)} collections created, {report.links_created} "
            f"versions linked now, {report.links_existing} linked before."
        )
        for line in describe_files(report):
            self.stdout.write(f"  {line}")
        for skipped in report.skipped:
            self.stdout.write(f"  skipped {skipped}")

    def _fill_legacy_registries(self, teams: dict[str, Team], nlp_admin) -> None:
        """Give each team its legacy Model Registry; nlp-team's gets the larger store."""
        # The legacy app sits above this one, so it is imported only here.
        from apps.legacy.importer import LegacyImporter
        from apps.legacy.services import ensure_legacy_registry

        for team in teams.values():
            ensure_legacy_registry(team=team)
        legacy_registry = ensure_legacy_registry(team=teams["nlp-team"])
        if legacy_registry.read_only_since is not None:
            self.stdout.write("The legacy registry of nlp-team is migrated; nothing to import.")
            return
        try:
            store = read_store(NLP_TEAM_STORE)
        except MlflowStoreError as error:
            raise CommandError(f"Cannot read the demo's MLflow store. {error}") from None
        report = LegacyImporter(store, legacy_registry=legacy_registry, actor=nlp_admin).run()
        self.stdout.write(
            f"Imported the nlp-team store into nlp-team/model-registry: "
            f"{len(report.collections_created)} registered models created, "
            f"{report.links_created} versions linked now, {report.links_existing} linked before."
        )
        for line in describe_files(report):
            self.stdout.write(f"  {line}")
        for skipped in report.skipped:
            self.stdout.write(f"  skipped {skipped}")
        if report.stopped_by:
            self.stdout.write(f"  stopped early: {report.stopped_by}")

    def _schedule_migration(self, team: Team, support) -> None:
        """Plan the team's migration five weeks ahead, once: any earlier plan is kept."""
        # The migration app sits above this one, so it is imported only here.
        from apps.migration.models import MigrationPlan
        from apps.migration.services import schedule_migration

        if MigrationPlan.objects.filter(team=team).exists():
            return
        start = (timezone.now() + timedelta(weeks=5)).replace(minute=0, second=0, microsecond=0)
        plan = schedule_migration(team=team, window_start=start, actor=support)
        self.stdout.write(
            f"Scheduled the migration of {team.name} to the registry '{plan.target_name}' "
            f"for {plan.window_start:%Y-%m-%d %H:%M} UTC."
        )

    def _print_accounts(self) -> None:
        port = os.environ.get("PORT") or "8000"
        self.stdout.write("")
        self.stdout.write(f"Open http://127.0.0.1:{port}/ and sign in with one of these accounts.")
        self.stdout.write(f"Every demo account has the password '{PASSWORD}'.")
        self.stdout.write("")
        width = max(len("username"), *(len(account.username) for account in ACCOUNTS))
        self.stdout.write(f"  {'username':<{width}}  role")
        for account in ACCOUNTS:
            self.stdout.write(f"  {account.username:<{width}}  {account.description}")
