"""Fill a team's legacy Model Registry from an MLflow file store.

The store is read by apps.registry.mlflow, and the same rules as the registry import decide
what is left out: prompts, names that the name rules reject, aliases that point at deleted
versions. Each registered model becomes a legacy registered model of the same name, with
the registry import's description (MLflow's own, then its timestamps and its tags as a
JSON block). Each version becomes a source version of the artifact of that name in the
team's project, with MLflow's fields and tags in its metadata, linked at MLflow's version
number. So v0 stays unused, deleted versions leave gaps, and the highest number ever given
is reserved. MlflowImporter of the registry import runs the same loop for both, and
LegacyDestination writes through apps.legacy.services, one transaction per model.
"""

import logging

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from apps.legacy import services
from apps.legacy.models import LegacyRegistry, LegacyVersion
from apps.legacy.models import RegisteredModel as LegacyModel
from apps.legacy.permissions import read_only_message, require_write
from apps.orgs.models import Team, TeamMembership, TeamRole
from apps.registry.mlflow import (
    MlflowStore,
    MlflowStoreError,
    ModelVersion,
    RegisteredModel,
    read_store,
    timestamp,
)
from apps.registry.mlflow_import import (
    DEFAULT_PROJECT,
    ImportReport,
    MlflowImporter,
    collection_description,
    describe_files,
)
from apps.registry.models import ArtifactVersion

logger = logging.getLogger(__name__)


class LegacyDestination:
    """Registered models of one team's legacy registry: what LegacyImporter writes."""

    def __init__(self, legacy_registry: LegacyRegistry) -> None:
        self.legacy_registry = legacy_registry
        self.team = legacy_registry.team
        self.log_fields = f"legacy_registry={legacy_registry.pk}"

    def find(self, model: RegisteredModel) -> tuple[LegacyModel | None, str | None]:
        existing = LegacyModel.objects.filter(
            legacy_registry=self.legacy_registry, name__iexact=model.name
        ).first()
        if existing is None:
            return None, None
        existing.legacy_registry = self.legacy_registry
        if existing.name != model.name:
            return existing, (
                f"the legacy registry already has a registered model '{existing.name}', and "
                f"names are compared without regard to case."
            )
        return existing, None

    def linked_sources(self, target: LegacyModel, indices: list[int]) -> dict[int, ArtifactVersion]:
        rows = LegacyVersion.objects.select_related("version").filter(
            model=target, index__in=indices
        )
        return {row.index: row.version for row in rows}

    def reused_index_reason(self, index: int, next_index: int) -> str:
        return (
            f"the index v{index} was handed out before and is never reused "
            f"(the model's next index is v{next_index})."
        )

    def create(self, model: RegisteredModel, *, actor) -> LegacyModel:
        legacy_model = services.create_registered_model(
            legacy_registry=self.legacy_registry,
            name=model.name,
            description=collection_description(model),
            at=timestamp(model.creation_timestamp),
            actor=actor,
        )
        legacy_model.legacy_registry = self.legacy_registry
        return legacy_model

    def link(
        self,
        target: LegacyModel,
        source: ArtifactVersion,
        version: ModelVersion,
        *,
        aliases: list[str],
        actor,
    ) -> None:
        services.link_version(
            model=target,
            version=source,
            index=version.version,
            aliases=aliases,
            description=version.description or "",
            at=timestamp(version.creation_timestamp),
            actor=actor,
        )

    def reserve_index(self, target: LegacyModel, index: int, *, actor) -> None:
        services.reserve_index(model=target, index=index, actor=actor)


class LegacyImporter(MlflowImporter[LegacyModel]):
    """Import a store's registered models into one team's legacy registry.

    Running it again links only versions that are new since and never takes an index that
    was handed out before.
    """

    def __init__(
        self,
        store: MlflowStore,
        *,
        legacy_registry: LegacyRegistry,
        actor,
        project_name: str = DEFAULT_PROJECT,
        store_files: bool = True,
    ) -> None:
        super().__init__(
            store,
            destination=LegacyDestination(legacy_registry),
            actor=actor,
            project_name=project_name,
            store_files=store_files,
        )
        self.legacy_registry = legacy_registry

    def run(self, *, dry_run: bool = False) -> ImportReport:
        """Import (or, with `dry_run`, preview) every model; raise PermissionDenied if migrated."""
        self.legacy_registry.refresh_from_db()
        if not dry_run and self.legacy_registry.read_only_since is not None:
            raise PermissionDenied(read_only_message(self.legacy_registry))
        return super().run(dry_run=dry_run)


# manage.py import_mlflow --legacy ----------------------------------------------------------


def _command_actor(team: Team, username: str | None):
    """Return the user the import acts as: `username`, or else the team's first admin."""
    memberships = TeamMembership.objects.filter(team=team, user__is_active=True).select_related(
        "user"
    )
    if username:
        membership = memberships.filter(user__username=username).first()
        if membership is None:
            raise CommandError(f"The user '{username}' is not an active member of '{team}'.")
        return membership.user
    membership = memberships.filter(role=TeamRole.ADMIN).order_by("user_id").first()
    if membership is None:
        raise CommandError(f"The team '{team}' has no active admin to act as; pass --actor.")
    return membership.user


def run_import_command(command: BaseCommand, *, team: Team, options: dict) -> None:
    """Run `import_mlflow --legacy`: import a store into the team's legacy registry.

    The registry's import_mlflow command calls this for its --legacy flag, after it found
    the organization and the team; it raises CommandError like the command does.
    """
    actor = _command_actor(team, options.get("actor"))
    legacy_registry = services.ensure_legacy_registry(team=team)
    try:
        require_write(actor, legacy_registry, "Importing from MLflow")
    except PermissionDenied as error:
        raise CommandError(f"{actor.username} cannot import: {error}") from None

    try:
        store = read_store(options["path"])
    except MlflowStoreError as error:
        raise CommandError(f"Cannot read the MLflow store. {error}") from None

    importer = LegacyImporter(
        store,
        legacy_registry=legacy_registry,
        actor=actor,
        project_name=options["project"],
        store_files=not options.get("no_files", False),
    )
    try:
        report = importer.run(dry_run=options["dry_run"])
    except PermissionDenied as error:
        raise CommandError(str(error)) from None
    _print_report(command, report, team, options["project"], actor.username)
    if report.stopped_by:
        raise CommandError(
            f"The import stopped before its last model: {report.stopped_by} Run the command "
            f"again then; it imports only what is still missing."
        )


def _print_report(
    command: BaseCommand, report: ImportReport, team: Team, project: str, actor: str
) -> None:
    write = command.stdout.write
    store = report.store
    write(
        f"Read {store.root}: {len(store.models)} registered models with {store.version_count} "
        f"versions ({store.deleted_version_count} deleted versions left out), "
        f"{len(store.prompts)} prompts."
    )
    verb = "Would create" if report.dry_run else "Created"
    if report.dry_run:
        write("Dry run: nothing was written.")
    write(
        f"{verb} {len(report.collections_created)} registered models in "
        f"{team}/model-registry and {report.links_created} versions, set "
        f"{report.aliases_set} aliases, recorded {len(report.runs)} runs and {report.files} "
        f"files in {team}/{project}, acting as {actor}."
    )
    for line in describe_files(report):
        write(line)
    unchanged = [r.name for r in report.results if not r.created and not r.linked]
    if unchanged:
        write(f"Already imported, unchanged ({len(unchanged)}): {', '.join(unchanged)}")
    if report.skipped:
        write(f"Skipped ({len(report.skipped)}):")
        for skipped in report.skipped:
            write(f"  {skipped}")
    else:
        write("Skipped: nothing.")
