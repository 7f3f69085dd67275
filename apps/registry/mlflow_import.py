"""Import the registered models of an MLflow file store into one of our registries.

apps/registry/mlflow.py reads the store and decides what our name rules reject. This module
writes what remains through the registry's services, one transaction per registered model.
"""

import json
import logging
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from apps.core.exceptions import WritePaused
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
from apps.registry.models import Artifact, ArtifactVersion, Collection, Project, Registry, Run

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
    results: list[ModelResult] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    runs: set[str] = field(default_factory=set)
    files: int = 0
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


@dataclass
class _ModelPlan:
    model: RegisteredModel
    collection: Collection | None  # None: the import creates it
    to_link: list[ModelVersion] = field(default_factory=list)
    already_linked: list[int] = field(default_factory=list)
    aliases: dict[str, int] = field(default_factory=dict)
    skipped: list[Skipped] = field(default_factory=list)
    rejected: bool = False  # the whole model is left out, for the reason in `skipped`


class RegistryImporter:
    """Import a store's registered models as collections of one registry.

    Each registered model becomes a `model` collection of the same name. Each version
    becomes a source version of the artifact of that name in the team's project. Its link
    takes MLflow's version number as its index, so v0 stays unused and deleted versions
    leave gaps. The highest number ever given, deleted or not, is reserved. Running it again
    links only versions that are new since, and never takes an index used before.
    """

    def __init__(
        self,
        store: MlflowStore,
        *,
        registry: Registry,
        team: Team,
        actor,
        project_name: str = DEFAULT_PROJECT,
    ) -> None:
        self.store = store
        self.registry = registry
        self.team = team
        self.actor = actor
        self.project_name = project_name

    def run(self, *, dry_run: bool = False) -> ImportReport:
        report = ImportReport(store=self.store, dry_run=dry_run)
        report.skipped.extend(
            Skipped("prompt", model.name, "MLflow prompts are not models.")
            for model in self.store.prompts
        )
        models, rejected = check_models(self.store.models)
        report.skipped.extend(rejected)
        logger.info(
            "MLflow import started: store=%s registry=%s team=%s models=%d dry_run=%s",
            self.store.root,
            self.registry.pk,
            self.team.pk,
            len(models),
            dry_run,
        )
        project = None if dry_run else self._project()

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
                    # Every later model would be rejected too, so stop here. The models
                    # before this one are committed, and a later run continues after them.
                    logger.warning(
                        "MLflow import stopped by a write pause: store=%s registry=%s model=%r",
                        self.store.root,
                        self.registry.pk,
                        model.name,
                    )
                    report.stopped_by = error.message
                    break
            if result is not None:
                report.results.append(result)

        logger.info(
            "MLflow import finished: store=%s registry=%s collections_created=%d "
            "links_created=%d skipped=%d dry_run=%s",
            self.store.root,
            self.registry.pk,
            len(report.collections_created),
            report.links_created,
            len(report.skipped),
            dry_run,
        )
        return report

    def _project(self) -> Project:
        return services.get_or_create_project(
            team=self.team, name=self.project_name, actor=self.actor
        )

    def _plan(self, model: RegisteredModel) -> _ModelPlan:
        """Decide what to create for one model, reading but never writing."""
        collection = Collection.objects.filter(
            registry=self.registry, name__iexact=model.name
        ).first()
        reason = None
        if collection is not None and collection.name != model.name:
            reason = (
                f"the registry already has a collection '{collection.name}', and names are "
                f"compared without regard to case."
            )
        elif collection is not None and collection.type != COLLECTION_TYPE:
            reason = f"the collection of that name holds the type '{collection.type}'."
        if reason is not None:
            skip = Skipped("registered model", model.name, reason)
            return _ModelPlan(model, collection, skipped=[skip], rejected=True)

        aliases, skipped = check_aliases(model)
        if collection is None:
            return _ModelPlan(
                model, None, to_link=list(model.versions), aliases=aliases, skipped=skipped
            )

        links = {
            link.index: link
            for link in collection.links.select_related("version").filter(
                index__in=[v.version for v in model.versions]
            )
        }
        plan = _ModelPlan(model, collection, skipped=skipped)
        for version in model.versions:
            link = links.get(version.version)
            label = f"{model.name} v{version.version}"
            if link is not None:
                metadata = link.version.metadata or {}
                if (
                    metadata.get("mlflow_model") == model.name
                    and metadata.get("mlflow_version") == version.version
                ):
                    plan.already_linked.append(version.version)
                else:
                    reason = f"the index v{version.version} holds another version."
                    plan.skipped.append(Skipped("version", label, reason))
            elif version.version < collection.next_index:
                reason = (
                    f"the index v{version.version} was used before and is never reused "
                    f"(the collection's next index is v{collection.next_index})."
                )
                plan.skipped.append(Skipped("version", label, reason))
            else:
                plan.to_link.append(version)
        # Aliases move only onto versions that this import links. The aliases of versions
        # linked earlier stay where people have put them since.
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
            created=plan.collection is None,
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
            reason = _message(error) if isinstance(error, ValidationError) else str(error)
            logger.warning(
                "MLflow import skipped a model: store=%s model=%r error=%s",
                self.store.root,
                plan.model.name,
                reason,
            )
            report.skipped.append(Skipped("registered model", plan.model.name, reason))
            return None
        report.runs.update(runs)
        report.files += files
        return result

    def _apply(self, plan: _ModelPlan, project: Project) -> tuple[ModelResult, set[str], int]:
        model = plan.model
        result = ModelResult(name=model.name, already_linked=plan.already_linked)
        collection = plan.collection
        if collection is None:
            collection = services.create_collection(
                registry=self.registry,
                name=model.name,
                type=COLLECTION_TYPE,
                description=collection_description(model),
                actor=self.actor,
            )
            result.created = True

        aliases_by_number: dict[int, list[str]] = {}
        for alias, number in plan.aliases.items():
            aliases_by_number.setdefault(number, []).append(alias)
        runs: set[str] = set()
        files = 0
        earlier = self._earlier_sources(project, model)
        for version in plan.to_link:
            if version.version in earlier:
                source, run_id, file_count = earlier[version.version], None, 0
            else:
                source, run_id, file_count = self._source_version(project, model, version)
            services.link_version(
                collection=collection,
                version=source,
                index=version.version,
                aliases=aliases_by_number.get(version.version, []),
                description=version.description or "",
                actor=self.actor,
            )
            result.linked.append(version.version)
            if run_id:
                runs.add(run_id)
            files += file_count
        result.aliases = sorted(plan.aliases)
        if model.highest_number is not None and model.highest_number >= collection.next_index:
            services.reserve_index(
                collection=collection, index=model.highest_number, actor=self.actor
            )
        return result, runs, files

    @staticmethod
    def _earlier_sources(project: Project, model: RegisteredModel) -> dict[int, ArtifactVersion]:
        """Find the source versions that an earlier import of the model made, by number.

        An import of the same store into another registry made them; linking those again
        lets both collections point at one source version.
        """
        artifact = Artifact.objects.filter(project=project, name__iexact=model.name).first()
        if artifact is None:
            return {}
        sources = artifact.versions.select_related("artifact").filter(
            metadata__mlflow_model=model.name
        )
        return {source.metadata.get("mlflow_version"): source for source in sources}

    def _source_version(
        self, project: Project, model: RegisteredModel, version: ModelVersion
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
        return source, mlflow_run.run_id if mlflow_run else None, len(files)
