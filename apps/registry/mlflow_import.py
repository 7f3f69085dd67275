"""Import the registered models of an MLflow file store into one of our registries.

apps/registry/mlflow.py reads the store and decides what our name rules reject. This module
plans, previews and applies the import of what remains, one transaction per registered
model. MlflowImporter runs that loop for any Destination. RegistryDestination writes through
the registry's services, and apps.legacy.importer defines the legacy registry's destination.
apps.registry.mlflow_contents stores the contents of the files that the store contains,
so the imported versions can be downloaded.
"""

import json
import logging
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from apps.core.exceptions import WritePaused
from apps.core.lookups import equals_ignoring_case
from apps.orgs.models import Team
from apps.registry import services
from apps.registry.mlflow import (
    MlflowStore,
    ModelVersion,
    RegisteredModel,
    Skipped,
    check_aliases,
    check_models,
    list_files,
    timestamp,
    version_metadata,
)
from apps.registry.mlflow_contents import FileContents, FileNotStored, entries_of
from apps.registry.models import (
    Artifact,
    ArtifactVersion,
    Collection,
    Project,
    Registry,
    Run,
)

logger = logging.getLogger(__name__)

# The team's project that contains the source versions of imported models.
DEFAULT_PROJECT = "mlflow-registry"
COLLECTION_TYPE = "model"


def _message(error: ValidationError) -> str:
    return " ".join(error.messages)


def _format_timestamp(milliseconds: int | None) -> str:
    moment = timestamp(milliseconds)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "unknown"


def collection_description(model: RegisteredModel) -> str:
    """Build a collection description: the model's own, then its timestamps and tags.

    Collection tags are labels (letters, digits, '_' and '-'), so MLflow's key/value tags
    are kept verbatim as a JSON block in the description instead.
    """
    note = (
        f"*Imported from MLflow: registered model created "
        f"{_format_timestamp(model.creation_timestamp)}, last updated "
        f"{_format_timestamp(model.last_updated_timestamp)}.*"
    )
    parts = [model.description] if model.description else []
    parts.append(note)
    if model.tags:
        block = json.dumps(model.tags, indent=2, ensure_ascii=False)
        parts.append(f"MLflow tags:\n\n```json\n{block}\n```")
    return "\n\n".join(parts)


@dataclass
class ModelResult:
    name: str
    created: bool = False  # the collection is new
    linked: list[int] = field(default_factory=list)  # version numbers linked by this import
    already_linked: list[int] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)


@dataclass
class ImportReport:
    store: MlflowStore
    dry_run: bool
    # False with --no-files: manifests only, and no file of the store is read for content.
    store_files: bool = True
    results: list[ModelResult] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    runs: set[str] = field(default_factory=set)
    files: int = 0  # manifest entries that the import recorded
    files_stored: int = 0  # contents stored by this import (or, in a dry run, that it would)
    files_stored_before: int = 0  # contents that were stored already, so left alone
    files_not_stored: list[FileNotStored] = field(default_factory=list)
    # The message of the write pause that stopped the import before its last model.
    stopped_by: str = ""

    @property
    def prompts(self) -> list[str]:
        return [model.name for model in self.store.prompts]

    @property
    def collections_created(self) -> list[str]:
        return [r.name for r in self.results if r.created]

    @property
    def collections_existing(self) -> list[str]:
        return [r.name for r in self.results if not r.created]

    @property
    def links_created(self) -> int:
        return sum(len(r.linked) for r in self.results)

    @property
    def links_existing(self) -> int:
        return sum(len(r.already_linked) for r in self.results)

    @property
    def aliases_set(self) -> int:
        return sum(len(r.aliases) for r in self.results)

    def add_contents(self, contents: FileContents) -> None:
        """Count what one model's FileContents stored, once its transaction committed."""
        self.files_stored += contents.stored
        self.files_stored_before += contents.stored_before
        self.files_not_stored.extend(contents.not_stored)


def describe_files(report: ImportReport) -> list[str]:
    """Return the lines that tell what an import did with file contents, for command output."""
    if not report.store_files:
        return ["File contents: not read and not stored (--no-files); the manifests list them."]
    stored = "to store" if report.dry_run else "stored"
    skipped = "to skip" if report.dry_run else "skipped"
    lines = [
        f"File contents: {report.files_stored} {stored}, {report.files_stored_before} "
        f"{skipped} (stored before), {len(report.files_not_stored)} not stored."
    ]
    if report.files_not_stored:
        lines.append(f"Files not stored ({len(report.files_not_stored)}):")
        lines.extend(f"  {note}" for note in report.files_not_stored)
    return lines


class Target(Protocol):
    """The object a registered model becomes: a collection, or a legacy registered model."""

    name: str
    # The index after the highest one ever handed out. Indices behind it are never reused.
    next_index: int


TargetT = TypeVar("TargetT", bound=Target)


class Destination(Protocol[TargetT]):
    """The part of an import that depends on where it writes.

    MlflowImporter plans, previews and applies every import the same way. A destination
    finds, creates and links its own kind of target through its own services.
    """

    team: Team
    # The destination's ids in log lines, such as "registry=3 team=5".
    log_fields: str

    def find(self, model: RegisteredModel) -> tuple[TargetT | None, str | None]:
        """Return the model's existing target (or None), and the reason to leave it out."""
        ...

    def linked_sources(self, target: TargetT, indices: list[int]) -> dict[int, ArtifactVersion]:
        """Return the source versions that `target` links at `indices`, by index."""
        ...

    def reused_index_reason(self, index: int, next_index: int) -> str:
        """Explain why `index`, which is behind `next_index`, takes no version."""
        ...

    def create(self, model: RegisteredModel, *, actor) -> TargetT:
        """Create the target of a registered model that has none yet."""
        ...

    def link(
        self,
        target: TargetT,
        source: ArtifactVersion,
        version: ModelVersion,
        *,
        aliases: list[str],
        actor,
    ) -> None:
        """Link `source` into `target` at the MLflow version's number, with `aliases`."""
        ...

    def reserve_index(self, target: TargetT, index: int, *, actor) -> None:
        """Keep every index up to `index` from being used by a later link."""
        ...


@dataclass
class _ModelPlan(Generic[TargetT]):
    model: RegisteredModel
    target: TargetT | None  # None: the import creates it
    to_link: list[ModelVersion] = field(default_factory=list)
    already_linked: list[int] = field(default_factory=list)
    # The versions at `already_linked`, with their source versions, whose files an earlier
    # import may have left without content.
    linked_before: list[tuple[ModelVersion, ArtifactVersion]] = field(default_factory=list)
    aliases: dict[str, int] = field(default_factory=dict)
    skipped: list[Skipped] = field(default_factory=list)
    rejected: bool = False  # the whole model is left out, for the reason in `skipped`


class MlflowImporter(Generic[TargetT]):
    """Import a store's registered models into a destination.

    Each registered model becomes a target of the same name. Each version becomes a source
    version of the artifact of that name in the team's project. Its link takes MLflow's
    version number as its index, so v0 stays unused and deleted versions leave gaps. The
    highest number ever given, deleted or not, is reserved. Running it again links only
    versions that are new since, and never takes an index used before.
    """

    def __init__(
        self,
        store: MlflowStore,
        *,
        destination: Destination[TargetT],
        actor,
        project_name: str = DEFAULT_PROJECT,
        store_files: bool = True,
    ) -> None:
        self.store = store
        self.destination = destination
        self.actor = actor
        self.project_name = project_name
        self.store_files = store_files

    def run(self, *, dry_run: bool = False) -> ImportReport:
        report = ImportReport(store=self.store, dry_run=dry_run, store_files=self.store_files)
        report.skipped.extend(
            Skipped("prompt", model.name, "MLflow prompts are not models.")
            for model in self.store.prompts
        )
        models, rejected = check_models(self.store.models)
        report.skipped.extend(rejected)
        logger.info(
            "MLflow import started: store=%s %s models=%d dry_run=%s",
            self.store.root,
            self.destination.log_fields,
            len(models),
            dry_run,
        )
        # A dry run creates no project. It reads the existing one, if any, to find the
        # source versions that an import into another destination made.
        project = self._existing_project() if dry_run else self._project()

        for model in models:
            plan = self._plan(model)
            report.skipped.extend(plan.skipped)
            if plan.rejected:
                continue
            if dry_run:
                result = self._preview_or_skip(plan, project, report)
            else:
                try:
                    result = self._apply_in_transaction(plan, project, report)
                except WritePaused as error:
                    # Every later model would be rejected too, so stop here. The models
                    # before this one are committed, and a later run continues after them.
                    logger.warning(
                        "MLflow import stopped by a write pause: store=%s %s model=%r",
                        self.store.root,
                        self.destination.log_fields,
                        model.name,
                    )
                    report.stopped_by = error.message
                    break
            if result is not None:
                report.results.append(result)

        logger.info(
            "MLflow import finished: store=%s %s created=%d links_created=%d skipped=%d "
            "files_stored=%d files_not_stored=%d dry_run=%s",
            self.store.root,
            self.destination.log_fields,
            len(report.collections_created),
            report.links_created,
            len(report.skipped),
            report.files_stored,
            len(report.files_not_stored),
            dry_run,
        )
        return report

    def _project(self) -> Project:
        return services.get_or_create_project(
            team=self.destination.team, name=self.project_name, actor=self.actor
        )

    def _existing_project(self) -> Project | None:
        return Project.objects.filter(
            equals_ignoring_case("name", self.project_name), team=self.destination.team
        ).first()

    def _plan(self, model: RegisteredModel) -> _ModelPlan[TargetT]:
        """Decide what to create for one model, reading but never writing."""
        target, reason = self.destination.find(model)
        if reason is not None:
            skip = Skipped("registered model", model.name, reason)
            return _ModelPlan(model, target, skipped=[skip], rejected=True)

        aliases, skipped = check_aliases(model)
        if target is None:
            return _ModelPlan(
                model, None, to_link=list(model.versions), aliases=aliases, skipped=skipped
            )

        linked = self.destination.linked_sources(target, [v.version for v in model.versions])
        plan = _ModelPlan(model, target, skipped=skipped)
        for version in model.versions:
            source = linked.get(version.version)
            label = f"{model.name} v{version.version}"
            if source is not None:
                metadata = source.metadata or {}
                if (
                    metadata.get("mlflow_model") == model.name
                    and metadata.get("mlflow_version") == version.version
                ):
                    plan.already_linked.append(version.version)
                    plan.linked_before.append((version, source))
                else:
                    reason = f"the index v{version.version} holds another version."
                    plan.skipped.append(Skipped("version", label, reason))
            elif version.version < target.next_index:
                reason = self.destination.reused_index_reason(version.version, target.next_index)
                plan.skipped.append(Skipped("version", label, reason))
            else:
                plan.to_link.append(version)
        # Aliases move only onto versions that this import links. The aliases of versions
        # linked earlier stay where people have put them since.
        linked_now = {v.version for v in plan.to_link}
        plan.aliases = {a: n for a, n in aliases.items() if n in linked_now}
        return plan

    def _preview_or_skip(
        self, plan: _ModelPlan[TargetT], project: Project | None, report: ImportReport
    ) -> ModelResult | None:
        """Preview the plan, or report the model as skipped where the real import would skip it.

        Reading the store can reject a model, for example a file whose name no manifest may
        list, and the real import then skips that model with the same reason.
        """
        try:
            return self._preview(plan, project, report)
        except ValidationError as error:
            report.skipped.append(Skipped("registered model", plan.model.name, _message(error)))
            return None

    def _preview(
        self, plan: _ModelPlan[TargetT], project: Project | None, report: ImportReport
    ) -> ModelResult:
        """Compute the result that applying the plan would give, without writing."""
        contents = FileContents(self.store, label=plan.model.name, write=False)
        earlier = _earlier_sources(project, plan.model) if project is not None else {}
        entries = entries_of([earlier[v.version] for v in plan.to_link if v.version in earlier])
        for version in plan.to_link:
            if version.version in earlier:
                if self.store_files:
                    contents.store_missing(version, entries[earlier[version.version].pk])
                continue
            run = self.store.run_of(version)
            if run is not None:
                report.runs.add(run.run_id)
            folder = self.store.files_folder(version)
            if folder is None:
                continue
            listed = list_files(folder, within=self.store.root)
            report.files += len(listed)
            if self.store_files:
                contents.store_new(version, folder, listed)
        self._store_linked_before(plan, contents)
        report.add_contents(contents)
        return ModelResult(
            name=plan.model.name,
            created=plan.target is None,
            linked=[v.version for v in plan.to_link],
            already_linked=plan.already_linked,
            aliases=sorted(plan.aliases),
        )

    def _apply_in_transaction(
        self, plan: _ModelPlan[TargetT], project: Project, report: ImportReport
    ) -> ModelResult | None:
        contents = FileContents(self.store, label=plan.model.name, write=True)
        try:
            # One transaction per registered model: it is imported whole or not at all. File
            # contents are stored inside it too. A blob saved before a rollback stays in the
            # storage, which is harmless: it is named by its sha256, and the next run that
            # stores the same content finds it there and keeps it.
            with transaction.atomic():
                result, runs, files = self._apply(plan, project, contents)
        except (ValidationError, PermissionDenied) as error:
            # A protected alias that the actor may not set raises PermissionDenied. Either
            # error rolls back this model only.
            reason = _message(error) if isinstance(error, ValidationError) else str(error)
            logger.warning(
                "MLflow import skipped a model: store=%s %s model=%r error=%s",
                self.store.root,
                self.destination.log_fields,
                plan.model.name,
                reason,
            )
            report.skipped.append(Skipped("registered model", plan.model.name, reason))
            return None
        report.runs.update(runs)
        report.files += files
        report.add_contents(contents)
        return result

    def _apply(
        self, plan: _ModelPlan[TargetT], project: Project, contents: FileContents
    ) -> tuple[ModelResult, set[str], int]:
        model = plan.model
        result = ModelResult(name=model.name, already_linked=plan.already_linked)
        target = plan.target
        if target is None:
            target = self.destination.create(model, actor=self.actor)
            result.created = True

        aliases_by_number: dict[int, list[str]] = {}
        for alias, number in plan.aliases.items():
            aliases_by_number.setdefault(number, []).append(alias)
        runs: set[str] = set()
        files = 0
        earlier = _earlier_sources(project, model)
        entries = entries_of([earlier[v.version] for v in plan.to_link if v.version in earlier])
        for version in plan.to_link:
            if version.version in earlier:
                source, run_id, file_count = earlier[version.version], None, 0
                if self.store_files:
                    contents.store_missing(version, entries[source.pk])
            else:
                source, run_id, file_count = self._source_version(project, model, version, contents)
            self.destination.link(
                target,
                source,
                version,
                aliases=aliases_by_number.get(version.version, []),
                actor=self.actor,
            )
            result.linked.append(version.version)
            if run_id:
                runs.add(run_id)
            files += file_count
        self._store_linked_before(plan, contents)
        result.aliases = sorted(plan.aliases)
        if model.highest_number is not None and model.highest_number >= target.next_index:
            self.destination.reserve_index(target, model.highest_number, actor=self.actor)
        return result, runs, files

    def _store_linked_before(self, plan: _ModelPlan[TargetT], contents: FileContents) -> None:
        """Store the contents that the versions linked by an earlier import still lack."""
        if not self.store_files or not plan.linked_before:
            return
        entries = entries_of([source for _, source in plan.linked_before])
        for version, source in plan.linked_before:
            contents.store_missing(version, entries[source.pk])

    def _source_version(
        self,
        project: Project,
        model: RegisteredModel,
        version: ModelVersion,
        contents: FileContents,
    ) -> tuple[ArtifactVersion, str | None, int]:
        """Create the source version of an MLflow version; return it, its run id, its files."""
        mlflow_run = self.store.run_of(version)
        run: Run | None = None
        if mlflow_run is not None:
            run = services.get_or_create_run(
                project=project, run_id=mlflow_run.run_id, name=mlflow_run.name, actor=self.actor
            )
        folder = self.store.files_folder(version)
        files = list_files(folder, within=self.store.root) if folder is not None else []
        source = services.create_artifact_version(
            project=project,
            artifact_name=model.name,
            type=COLLECTION_TYPE,
            metadata=version_metadata(model, version, mlflow_run),
            files=files,
            description=version.description or "",
            produced_by=run,
            created_at=timestamp(version.creation_timestamp),
            actor=self.actor,
        )
        if self.store_files and folder is not None:
            contents.store_new(version, folder, list(source.files.all()))
        return source, mlflow_run.run_id if mlflow_run else None, len(files)


def _earlier_sources(project: Project, model: RegisteredModel) -> dict[int, ArtifactVersion]:
    """Find the source versions that an earlier import of the model made, by number.

    An import of the same store into another registry or into a legacy registry made them.
    Linking those again lets every target of the model point at one source version.
    """
    artifact = Artifact.objects.filter(project=project, name__iexact=model.name).first()
    if artifact is None:
        return {}
    sources = artifact.versions.select_related("artifact__project").filter(
        metadata__mlflow_model=model.name
    )
    return {source.metadata.get("mlflow_version"): source for source in sources}


class RegistryDestination:
    """Collections of one registry: what RegistryImporter writes."""

    def __init__(self, registry: Registry, team: Team) -> None:
        self.registry = registry
        self.team = team
        self.log_fields = f"registry={registry.pk} team={team.pk}"

    def find(self, model: RegisteredModel) -> tuple[Collection | None, str | None]:
        collection = Collection.objects.filter(
            registry=self.registry, name__iexact=model.name
        ).first()
        if collection is not None and collection.name != model.name:
            return collection, (
                f"the registry already has a collection '{collection.name}', and names are "
                f"compared without regard to case."
            )
        if collection is not None and collection.type != COLLECTION_TYPE:
            return collection, f"the collection of that name holds the type '{collection.type}'."
        return collection, None

    def linked_sources(self, target: Collection, indices: list[int]) -> dict[int, ArtifactVersion]:
        links = target.links.select_related("version").filter(index__in=indices)
        return {link.index: link.version for link in links}

    def reused_index_reason(self, index: int, next_index: int) -> str:
        return (
            f"the index v{index} was used before and is never reused "
            f"(the collection's next index is v{next_index})."
        )

    def create(self, model: RegisteredModel, *, actor) -> Collection:
        return services.create_collection(
            registry=self.registry,
            name=model.name,
            type=COLLECTION_TYPE,
            description=collection_description(model),
            actor=actor,
        )

    def link(
        self,
        target: Collection,
        source: ArtifactVersion,
        version: ModelVersion,
        *,
        aliases: list[str],
        actor,
    ) -> None:
        services.link_version(
            collection=target,
            version=source,
            index=version.version,
            aliases=aliases,
            description=version.description or "",
            actor=actor,
        )

    def reserve_index(self, target: Collection, index: int, *, actor) -> None:
        services.reserve_index(collection=target, index=index, actor=actor)


class RegistryImporter(MlflowImporter[Collection]):
    """Import a store's registered models as `model` collections of one registry."""

    def __init__(
        self,
        store: MlflowStore,
        *,
        registry: Registry,
        team: Team,
        actor,
        project_name: str = DEFAULT_PROJECT,
        store_files: bool = True,
    ) -> None:
        super().__init__(
            store,
            destination=RegistryDestination(registry, team),
            actor=actor,
            project_name=project_name,
            store_files=store_files,
        )
