"""Fill a team's legacy Model Registry from an MLflow file store.

The store is read by apps.registry.mlflow, and the same rules as the registry import decide
what is left out: prompts, names that the name rules reject, aliases that point at deleted
versions. Each registered model becomes a legacy registered model of the same name, with
the registry import's description (MLflow's own, then its timestamps and its tags as a
JSON block). Each version becomes a source version of the artifact of that name in the
team's project, with MLflow's fields and tags in its metadata, linked at MLflow's version
number. So v0 stays unused, deleted versions leave gaps, and the highest number ever given
is reserved. Every write goes through apps.legacy.services, one transaction per model.
"""

import logging
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from apps.core.exceptions import WritePaused
from apps.legacy import services
from apps.legacy.models import LegacyRegistry, LegacyVersion
from apps.legacy.models import RegisteredModel as LegacyModel
from apps.legacy.permissions import read_only_message, require_write
from apps.orgs.models import Team, TeamMembership, TeamRole
from apps.registry import services as registry_services
from apps.registry.mlflow import (
    MlflowStore,
    MlflowStoreError,
    ModelVersion,
    RegisteredModel,
    Skipped,
    check_aliases,
    check_models,
    list_files,
    read_store,
    timestamp,
    version_metadata,
)
from apps.registry.mlflow_import import (
    DEFAULT_PROJECT,
    ImportReport,
    ModelResult,
    collection_description,
)
from apps.registry.models import Artifact, ArtifactVersion, Project

logger = logging.getLogger(__name__)


@dataclass
class _ModelPlan:
    model: RegisteredModel
    existing: LegacyModel | None  # None: the import creates it
    to_link: list[ModelVersion] = field(default_factory=list)
    already_linked: list[int] = field(default_factory=list)
    aliases: dict[str, int] = field(default_factory=dict)
    skipped: list[Skipped] = field(default_factory=list)
    rejected: bool = False  # the whole model is left out; `skipped` gives the reason


def _message(error: ValidationError | PermissionDenied) -> str:
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return str(error)


class LegacyImporter:
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
    ) -> None:
        self.store = store
        self.legacy_registry = legacy_registry
        self.actor = actor
        self.project_name = project_name

    def run(self, *, dry_run: bool = False) -> ImportReport:
        """Import (or, with `dry_run`, preview) every model; raise PermissionDenied if migrated."""
        self.legacy_registry.refresh_from_db()
        if not dry_run and self.legacy_registry.read_only_since is not None:
            raise PermissionDenied(read_only_message(self.legacy_registry))

        report = ImportReport(store=self.store, dry_run=dry_run)
        report.skipped.extend(
            Skipped("prompt", model.name, "MLflow prompts are not models.")
            for model in self.store.prompts
        )
        models, rejected = check_models(self.store.models)
        report.skipped.extend(rejected)
        logger.info(
            "MLflow legacy import started: store=%s legacy_registry=%s models=%d dry_run=%s",
            self.store.root,
            self.legacy_registry.pk,
            len(models),
            dry_run,
        )
        project = None
        if not dry_run:
            project = registry_services.get_or_create_project(
                team=self.legacy_registry.team, name=self.project_name, actor=self.actor
            )

        for model in models:
            plan = self._plan(model)
            report.skipped.extend(plan.skipped)
            if plan.rejected:
                continue
            if dry_run:
                result = self._preview(plan, report)
            else:
                try:
                    result = self._apply_in_transaction(plan, project, report)
                except WritePaused as error:
                    # Every later model would be rejected too. The models before this one
                    # are committed, and a later run continues after them.
                    logger.warning(
                        "MLflow legacy import stopped by a write pause: store=%s "
                        "legacy_registry=%s model=%r",
                        self.store.root,
                        self.legacy_registry.pk,
                        model.name,
                    )
                    report.stopped_by = error.message
                    break
            if result is not None:
                report.results.append(result)

        logger.info(
            "MLflow legacy import finished: store=%s legacy_registry=%s models_created=%d "
            "links_created=%d skipped=%d dry_run=%s",
            self.store.root,
            self.legacy_registry.pk,
            len(report.collections_created),
            report.links_created,
            len(report.skipped),
            dry_run,
        )
        return report

    def _plan(self, model: RegisteredModel) -> _ModelPlan:
        """Decide what to create for one model, reading but never writing."""
        existing = LegacyModel.objects.filter(
            legacy_registry=self.legacy_registry, name__iexact=model.name
        ).first()
        if existing is not None and existing.name != model.name:
            reason = (
                f"the legacy registry already has a registered model '{existing.name}', and "
                f"names are compared without regard to case."
            )
            skip = Skipped("registered model", model.name, reason)
            return _ModelPlan(model, existing, skipped=[skip], rejected=True)

        aliases, skipped = check_aliases(model)
        if existing is None:
            return _ModelPlan(
                model, None, to_link=list(model.versions), aliases=aliases, skipped=skipped
            )

        linked = {
            row.index: row
            for row in LegacyVersion.objects.select_related("version").filter(
                model=existing, index__in=[v.version for v in model.versions]
            )
        }
        plan = _ModelPlan(model, existing, skipped=skipped)
        for version in model.versions:
            row = linked.get(version.version)
            label = f"{model.name} v{version.version}"
            if row is not None:
                metadata = row.version.metadata or {}
                if (
                    metadata.get("mlflow_model") == model.name
                    and metadata.get("mlflow_version") == version.version
                ):
                    plan.already_linked.append(version.version)
                else:
                    reason = f"the index v{version.version} holds another version."
                    plan.skipped.append(Skipped("version", label, reason))
            elif version.version < existing.next_index:
                reason = (
                    f"the index v{version.version} was handed out before and is never reused "
                    f"(the model's next index is v{existing.next_index})."
                )
                plan.skipped.append(Skipped("version", label, reason))
            else:
                plan.to_link.append(version)
        # Aliases move only onto versions this import links. Aliases of versions linked
        # earlier stay where people have put them since.
        linked_now = {v.version for v in plan.to_link}
        plan.aliases = {a: n for a, n in aliases.items() if n in linked_now}
        return plan

    def _preview(self, plan: _ModelPlan, report: ImportReport) -> ModelResult:
        """Compute the result that applying the plan would give, without writing."""
        for version in plan.to_link:
            run = self.store.run_of(version)
            if run is not None:
                report.runs.add(run.run_id)
            folder = self.store.files_folder(version)
            if folder is not None:
                report.files += len(list_files(folder, within=self.store.root))
        return ModelResult(
            name=plan.model.name,
            created=plan.existing is None,
            linked=[v.version for v in plan.to_link],
            already_linked=plan.already_linked,
            aliases=sorted(plan.aliases),
        )

    def _apply_in_transaction(
        self, plan: _ModelPlan, project: Project, report: ImportReport
    ) -> ModelResult | None:
        try:
            # One transaction per registered model: it is imported whole or not at all.
            with transaction.atomic():
                result, runs, files = self._apply(plan, project)
        except (ValidationError, PermissionDenied) as error:
            # A protected alias that the actor may not set raises PermissionDenied. Either
            # error rolls back this model only.
            logger.warning(
                "MLflow legacy import skipped a model: store=%s model=%r error=%s",
                self.store.root,
                plan.model.name,
                _message(error),
            )
            report.skipped.append(Skipped("registered model", plan.model.name, _message(error)))
            return None
        report.runs.update(runs)
        report.files += files
        return result

    def _apply(self, plan: _ModelPlan, project: Project) -> tuple[ModelResult, set[str], int]:
        model = plan.model
        result = ModelResult(name=model.name, already_linked=plan.already_linked)
        legacy_model = plan.existing
        if legacy_model is None:
            legacy_model = services.create_registered_model(
                legacy_registry=self.legacy_registry,
                name=model.name,
                description=collection_description(model),
                at=timestamp(model.creation_timestamp),
                actor=self.actor,
            )
            result.created = True
        legacy_model.legacy_registry = self.legacy_registry

        aliases_by_number: dict[int, list[str]] = {}
        for alias, number in plan.aliases.items():
            aliases_by_number.setdefault(number, []).append(alias)
        runs: set[str] = set()
        files = 0
        earlier = _earlier_sources(project, model)
        for version in plan.to_link:
            if version.version in earlier:
                source, run_id, file_count = earlier[version.version], None, 0
            else:
                source, run_id, file_count = self._source_version(project, model, version)
            services.link_version(
                model=legacy_model,
                version=source,
                index=version.version,
                aliases=aliases_by_number.get(version.version, []),
                description=version.description or "",
                at=timestamp(version.creation_timestamp),
                actor=self.actor,
            )
            result.linked.append(version.version)
            if run_id:
                runs.add(run_id)
            files += file_count
        result.aliases = sorted(plan.aliases)
        highest = model.highest_number
        if highest is not None and highest >= legacy_model.next_index:
            services.reserve_index(model=legacy_model, index=highest, actor=self.actor)
        return result, runs, files

    def _source_version(
        self, project: Project, model: RegisteredModel, version: ModelVersion
    ) -> tuple[ArtifactVersion, str | None, int]:
        """Create the source version of an MLflow version; return it, its run id, its files."""
        mlflow_run = self.store.run_of(version)
        run = None
        if mlflow_run is not None:
            run = registry_services.get_or_create_run(
                project=project, run_id=mlflow_run.run_id, name=mlflow_run.name, actor=self.actor
            )
        folder = self.store.files_folder(version)
        files = list_files(folder, within=self.store.root) if folder is not None else []
        source = registry_services.create_artifact_version(
            project=project,
            artifact_name=model.name,
            type=services.MODEL_TYPE,
            metadata=version_metadata(model, version, mlflow_run),
            files=files,
            description=version.description or "",
            produced_by=run,
            created_at=timestamp(version.creation_timestamp),
            actor=self.actor,
        )
        return source, mlflow_run.run_id if mlflow_run else None, len(files)


def _earlier_sources(project: Project, model: RegisteredModel) -> dict[int, ArtifactVersion]:
    """Find the source versions that an earlier import of the model made, by number.

    An import of the same store into a registry, or an earlier run of this import, made
    them. Linking those again points the legacy model at the same source versions.
    """
    artifact = Artifact.objects.filter(project=project, name__iexact=model.name).first()
    if artifact is None:
        return {}
    sources = artifact.versions.select_related("artifact__project").filter(
        metadata__mlflow_model=model.name
    )
    return {source.metadata.get("mlflow_version"): source for source in sources}


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
        store, legacy_registry=legacy_registry, actor=actor, project_name=options["project"]
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
    unchanged = [r.name for r in report.results if not r.created and not r.linked]
    if unchanged:
        write(f"Already imported, unchanged ({len(unchanged)}): {', '.join(unchanged)}")
    if report.skipped:
        write(f"Skipped ({len(report.skipped)}):")
        for skipped in report.skipped:
            write(f"  {skipped}")
    else:
        write("Skipped: nothing.")
