"""manage.py import_mlflow: copy an MLflow file-store model registry into a registry."""

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.core.exceptions import WritePaused
from apps.orgs.models import Organization, OrgMembership, OrgRole, Team
from apps.orgs.permissions import require_team_writer
from apps.registry.mlflow import MlflowStoreError, read_store
from apps.registry.mlflow_import import (
    COLLECTION_TYPE,
    DEFAULT_PROJECT,
    ImportReport,
    ModelResult,
    RegistryImporter,
    describe_files,
)
from apps.registry.models import Registry
from apps.registry.permissions import require_change


def _count(number: int, singular: str, plural: str | None = None) -> str:
    return f"{number} {singular if number == 1 else plural or singular + 's'}"


def _versions(numbers: list[int]) -> str:
    """Version numbers as runs of consecutive numbers: v1-v36, v39, v41-v50."""
    runs: list[list[int]] = []
    for number in sorted(numbers):
        if runs and number == runs[-1][-1] + 1:
            runs[-1].append(number)
        else:
            runs.append([number])
    return ", ".join(f"v{r[0]}" if len(r) == 1 else f"v{r[0]}-v{r[-1]}" for r in runs)


class Command(BaseCommand):
    help = (
        "Import the registered models of an MLflow file store (PATH/models/...) into a "
        "registry: each model becomes a collection and each version a link whose index is "
        "MLflow's version number, with the contents of the files the store contains. Safe to "
        "run again: it imports only what is new."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="The MLflow tracking folder (mlruns) with models/ in it.")
        parser.add_argument("--org", required=True, help="Name of the organization.")
        parser.add_argument(
            "--team",
            required=True,
            help=f"Team whose project (default '{DEFAULT_PROJECT}') receives the source versions.",
        )
        parser.add_argument(
            "--registry", default="model", help="Name of the target registry (default: model)."
        )
        parser.add_argument(
            "--project",
            default=DEFAULT_PROJECT,
            help=f"Project of the team for the source versions (default: {DEFAULT_PROJECT}).",
        )
        parser.add_argument(
            "--actor",
            help=(
                "Username the import acts as and records in the history; it needs the Member "
                "role on the registry. Default: the organization's first admin."
            ),
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Read and check everything, print what an import would do, write nothing.",
        )
        parser.add_argument(
            "--no-files",
            action="store_true",
            help=(
                "Record each version's manifest (path, size, sha256) but do not store the "
                "files' contents, for stores whose files are kept elsewhere."
            ),
        )
        parser.add_argument(
            "--legacy",
            action="store_true",
            help=(
                "Import into the team's legacy Model Registry instead of a registry; "
                "--registry is ignored and the default --actor is the team's first admin."
            ),
        )

    def handle(self, *args, **options) -> None:
        organization = Organization.objects.filter(name__iexact=options["org"]).first()
        if organization is None:
            raise CommandError(f"The organization '{options['org']}' was not found.")
        team = Team.objects.filter(organization=organization, name__iexact=options["team"]).first()
        if team is None:
            raise CommandError(f"The team '{options['team']}' was not found in '{organization}'.")
        if options["legacy"]:
            # The legacy app sits above this one, so it is imported only when asked for.
            from apps.legacy.importer import run_import_command

            run_import_command(self, team=team, options=options)
            return
        registry = Registry.objects.filter(
            organization=organization, name__iexact=options["registry"]
        ).first()
        if registry is None:
            raise CommandError(
                f"The registry '{options['registry']}' was not found in '{organization}'."
            )
        if not registry.accepts(COLLECTION_TYPE):
            raise CommandError(
                f"The registry '{registry}' does not accept the type '{COLLECTION_TYPE}'; "
                f"choose a registry that does, such as 'model'."
            )
        actor = self._actor(organization, options["actor"])
        try:
            require_change(actor, registry, "Importing from MLflow")
            require_team_writer(actor, team, "Importing from MLflow")
        except PermissionDenied as error:
            raise CommandError(f"{actor.username} cannot import: {error}") from None
        except WritePaused as error:
            if not options["dry_run"]:
                raise CommandError(error.message) from None
            self.stderr.write(f"{error.message} A real import would be rejected now.")

        try:
            store = read_store(options["path"])
        except MlflowStoreError as error:
            raise CommandError(f"Cannot read the MLflow store. {error}") from None

        importer = RegistryImporter(
            store,
            registry=registry,
            team=team,
            actor=actor,
            project_name=options["project"],
            store_files=not options["no_files"],
        )
        report = importer.run(dry_run=options["dry_run"])
        self._print(report, registry, team, options["project"], actor.username)
        if report.stopped_by:
            raise CommandError(
                f"The import stopped before its last model: {report.stopped_by} Run the "
                f"command again then; it imports only what is still missing."
            )

    def _actor(self, organization: Organization, username: str | None):
        memberships = OrgMembership.objects.filter(
            organization=organization, user__is_active=True
        ).select_related("user")
        if username:
            membership = memberships.filter(user__username=username).first()
            if membership is None:
                raise CommandError(
                    f"The user '{username}' is not an active member of '{organization}'."
                )
            return membership.user
        membership = memberships.filter(role=OrgRole.ADMIN).order_by("user_id").first()
        if membership is None:
            raise CommandError(
                f"'{organization}' has no active admin to act as; pass --actor USERNAME."
            )
        return membership.user

    def _print(
        self, report: ImportReport, registry: Registry, team: Team, project: str, actor: str
    ) -> None:
        store = report.store
        write = self.stdout.write
        write(
            f"Read {store.root}: {_count(len(store.models), 'registered model')} with "
            f"{_count(store.version_count, 'version')} (and "
            f"{_count(store.deleted_version_count, 'deleted version')} left out), "
            f"{_count(len(store.prompts), 'prompt')}."
        )
        if report.dry_run:
            write("Dry run: nothing was written. An import would do this:")
        create, set_, record = (
            ("Would create", "set", "record") if report.dry_run else ("Created", "set", "recorded")
        )
        write(
            f"{create} {_count(len(report.collections_created), 'collection')} and "
            f"{_count(report.links_created, 'link')} in {registry.organization}/{registry.name}, "
            f"{set_} {_count(report.aliases_set, 'alias', 'aliases')}, and {record} "
            f"{_count(len(report.runs), 'producing run')} and {_count(report.files, 'file')} "
            f"in {team}/{project}, acting as {actor}."
        )
        for line in describe_files(report):
            write(line)

        created = [r for r in report.results if r.created]
        grown = [r for r in report.results if not r.created and r.linked]
        unchanged = [r for r in report.results if not r.created and not r.linked]
        if created:
            write(f"Collections {'to create' if report.dry_run else 'created'} ({len(created)}):")
            for result in created:
                write(f"  {self._describe(result)}")
        if grown:
            write(f"Existing collections with new versions ({len(grown)}):")
            for result in grown:
                write(f"  {self._describe(result)}")
        if unchanged:
            names = ", ".join(r.name for r in unchanged)
            write(f"Imported before and unchanged ({len(unchanged)}): {names}")
        if report.skipped:
            write(f"Skipped ({len(report.skipped)}):")
            for skipped in report.skipped:
                write(f"  {skipped}")
        else:
            write("Skipped: nothing.")

    @staticmethod
    def _describe(result: ModelResult) -> str:
        text = f"{result.name}: {_count(len(result.linked), 'version')}"
        if result.linked:
            text += f" ({_versions(result.linked)})"
        if result.aliases:
            text += f", aliases {', '.join(result.aliases)}"
        return text
