"""A team's projects, artifacts and artifact versions, and the files of a version."""

import posixpath

from django.db import transaction
from django.db.models import Count
from django.http import FileResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle

from apps.api import examples
from apps.api.base import ApiViewSet, clean_id, clean_name, team_of
from apps.api.filters import ArtifactFilter
from apps.api.parsers import ManifestJSONParser
from apps.api.serializers.artifacts import (
    ArtifactSerializer,
    ArtifactVersionCreateSerializer,
    ArtifactVersionSerializer,
    ProjectCreateSerializer,
    ProjectSerializer,
    SignedUrlSerializer,
)
from apps.api.serializers.collections import ManifestFileSerializer
from apps.api.throttling import SignedDownloadRateThrottle
from apps.core.lookups import equals_ignoring_case
from apps.orgs.models import Team
from apps.registry import files, services
from apps.registry.models import Artifact, ArtifactVersion, ManifestEntry, Project

FILE_PARAMETER = OpenApiParameter(
    "file_id", int, OpenApiParameter.PATH, description="The id of a file in the manifest."
)
VERSION_ID_PARAMETER = OpenApiParameter(
    "id", int, OpenApiParameter.PATH, description="The id of the artifact version."
)


def project_of(team: Team, name: str) -> Project:
    project = None
    if clean_name(name):
        project = Project.objects.filter(equals_ignoring_case("name", name), team=team).first()
    if project is None:
        raise NotFound(f"The project '{name}' was not found in the team '{team.name}'.")
    return project


def _versions_with_files():
    return ArtifactVersion.objects.select_related(
        "artifact__project__team", "created_by", "produced_by"
    ).prefetch_related("files")


class ProjectViewSet(ApiViewSet):
    serializer_class = ProjectSerializer
    filter_backends = []

    def get_queryset(self):
        if self.is_schema_request:
            return Project.objects.none()
        team = team_of(self.request.user, self.kwargs["org"], self.kwargs["team"])
        return Project.objects.filter(team=team).select_related("team")

    @extend_schema(
        summary="List a team's projects",
        description="Members of the team see its projects; others get 404 for the team.",
        examples=[examples.PROJECT_RESPONSE],
    )
    def list(self, request, org: str, team: str):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(ProjectSerializer(page, many=True).data)

    @extend_schema(
        summary="Create a project",
        description="The team's admins and members create a project, or get the existing one.",
        request=ProjectCreateSerializer,
        responses={201: ProjectSerializer},
        examples=[examples.PROJECT_CREATE, examples.PROJECT_RESPONSE],
    )
    def create(self, request, org: str, team: str):
        target = team_of(request.user, org, team)

        serializer = ProjectCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)

        project = services.get_or_create_project(
            team=target, name=serializer.validated_data["name"], actor=request.user
        )

        return Response(ProjectSerializer(project).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(
        summary="List a project's artifacts",
        description="Artifacts with their type and number of versions, filtered by type and text.",
        examples=[examples.ARTIFACT_RESPONSE],
    )
)
class ArtifactViewSet(ApiViewSet):
    serializer_class = ArtifactSerializer
    filterset_class = ArtifactFilter
    ordering_fields = ["name", "created_at"]

    def get_queryset(self):
        if self.is_schema_request:
            return Artifact.objects.none()
        team = team_of(self.request.user, self.kwargs["org"], self.kwargs["team"])
        project = project_of(team, self.kwargs["project"])
        return (
            Artifact.objects.filter(project=project)
            .select_related("project")
            .annotate(version_count=Count("versions"))
        )

    def list(self, request, org: str, team: str, project: str):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(ArtifactSerializer(page, many=True).data)


class ArtifactVersionListViewSet(ApiViewSet):
    """The versions of one artifact; creating one creates the artifact when it is new."""

    serializer_class = ArtifactVersionSerializer
    filter_backends = []
    # A manifest may list tens of thousands of files, so JSON bodies here have their own
    # limit, API_MANIFEST_MAX_BYTES. Form bodies keep REQUEST_BODY_MAX_BYTES.
    parser_classes = [ManifestJSONParser, FormParser, MultiPartParser]

    def get_queryset(self):
        if self.is_schema_request:
            return ArtifactVersion.objects.none()
        team = team_of(self.request.user, self.kwargs["org"], self.kwargs["team"])
        project = project_of(team, self.kwargs["project"])
        name = self.kwargs["artifact"]
        artifact = None
        if clean_name(name):
            artifact = Artifact.objects.filter(
                equals_ignoring_case("name", name), project=project
            ).first()
        if artifact is None:
            raise NotFound(f"The artifact '{name}' was not found in the project '{project.name}'.")
        return _versions_with_files().filter(artifact=artifact)

    @extend_schema(
        summary="List an artifact's versions",
        description="Every version with its metadata and file manifest, newest first.",
        examples=[examples.ARTIFACT_VERSION_RESPONSE],
    )
    def list(self, request, org: str, team: str, project: str, artifact: str):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(ArtifactVersionSerializer(page, many=True).data)

    @extend_schema(
        summary="Log an artifact version",
        description=(
            "The team's admins and members log a new version with its metadata and file "
            "manifest (path, size, sha256 of each file); the artifact is created when it is "
            "new. Upload each file's content afterwards with PUT .../files/{file_id}/content."
        ),
        request=ArtifactVersionCreateSerializer,
        responses={201: ArtifactVersionSerializer},
        examples=[examples.ARTIFACT_VERSION_CREATE, examples.ARTIFACT_VERSION_RESPONSE],
    )
    def create(self, request, org: str, team: str, project: str, artifact: str):
        target = project_of(team_of(request.user, org, team), project)
        if not clean_name(artifact):
            raise NotFound(f"The artifact '{artifact}' was not found in '{target.name}'.")

        serializer = ArtifactVersionCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data

        # A run recorded for a version that is then rejected is rolled back with it.
        with transaction.atomic():
            run = None
            if data.get("run_id"):
                run = services.get_or_create_run(
                    project=target, run_id=data["run_id"], actor=request.user
                )
            version = services.create_artifact_version(
                project=target,
                artifact_name=artifact,
                type=data["type"],
                metadata=data["metadata"],
                files=[services.FileEntry(**entry) for entry in data["files"]],
                description=data["description"],
                produced_by=run,
                actor=request.user,
            )

        fresh = _versions_with_files().get(pk=version.pk)
        return Response(ArtifactVersionSerializer(fresh).data, status=status.HTTP_201_CREATED)


class ArtifactVersionViewSet(ApiViewSet):
    """One artifact version by id, and the contents of its files."""

    serializer_class = ArtifactVersionSerializer
    pagination_class = None
    filter_backends = []
    lookup_value_regex = "[0-9]+"

    def _version(self) -> ArtifactVersion:
        number = clean_id(self.kwargs["pk"])
        version = None
        if number is not None:
            version = (
                _versions_with_files()
                .filter(pk__in=ArtifactVersion.objects.visible_to(self.request.user).values("pk"))
                .filter(pk=number)
                .first()
            )
        if version is None:
            raise NotFound(f"The artifact version {self.kwargs['pk']} was not found.")
        return version

    def _entry(self, version: ArtifactVersion) -> ManifestEntry:
        number = clean_id(self.kwargs["file_id"])
        entry = None
        if number is not None:
            entry = next((item for item in version.files.all() if item.pk == number), None)
        if entry is None:
            raise NotFound(
                f"The file {self.kwargs['file_id']} is not in the manifest of "
                f"{version.source_path}."
            )
        entry.version = version
        return entry

    @extend_schema(
        summary="Read an artifact version",
        description=(
            "A version the caller can see: their team's, or one linked into a registry they "
            "can see. Restricted Viewers see the manifest but cannot download."
        ),
        parameters=[VERSION_ID_PARAMETER],
        examples=[examples.ARTIFACT_VERSION_RESPONSE],
    )
    def retrieve(self, request, pk: str):
        return Response(ArtifactVersionSerializer(self._version()).data)

    @extend_schema(
        methods=["GET"],
        summary="Download a file",
        description=(
            "Streams the file's content. Needs the Viewer role on a registry the version is "
            "linked into, or membership of its team; Restricted Viewers get 403."
        ),
        parameters=[VERSION_ID_PARAMETER, FILE_PARAMETER],
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
    )
    @extend_schema(
        methods=["PUT"],
        summary="Upload a file",
        description=(
            "Send the raw content as the request body. It is stored only when its size and "
            "sha256 match the manifest; a mismatch is rejected with 400 and stores nothing. "
            "Uploading the same content again is harmless."
        ),
        parameters=[VERSION_ID_PARAMETER, FILE_PARAMETER],
        request={"application/octet-stream": OpenApiTypes.BINARY},
        responses={200: ManifestFileSerializer},
        examples=[examples.FILE_RESPONSE],
    )
    @action(
        detail=True,
        methods=["get", "put"],
        url_path=r"files/(?P<file_id>[0-9]+)/content",
        url_name="file-content",
    )
    def content(self, request, pk: str, file_id: str):
        entry = self._entry(self._version())
        if request.method == "PUT":
            stream = request.stream or _EmptyStream()
            files.store_file(entry=entry, stream=stream, actor=request.user)
            return Response(ManifestFileSerializer(entry).data)

        files.require_download(request.user, entry.version)
        return _file_response(entry)

    @extend_schema(
        summary="Get a signed download URL",
        description=(
            "A URL that downloads the file without an Authorization header until it expires "
            "(settings.ARTIFACT_SIGNED_URL_SECONDS). It carries no credentials, and the "
            "download checks again that the caller may still download the version."
        ),
        parameters=[VERSION_ID_PARAMETER, FILE_PARAMETER],
        responses={200: SignedUrlSerializer},
        examples=[examples.SIGNED_URL_RESPONSE],
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"files/(?P<file_id>[0-9]+)/signed-url",
        url_name="file-signed-url",
    )
    def signed_url(self, request, pk: str, file_id: str):
        entry = self._entry(self._version())
        if not files.is_uploaded(entry):
            raise NotFound(f"The file '{entry.path}' has not been uploaded yet.")
        signed = files.sign_download(entry, request.user)
        url = request.build_absolute_uri(reverse("api:signed-download", args=[signed.token]))
        return Response({"url": url, "expires_at": signed.expires_at})


class _EmptyStream:
    def read(self, size: int = -1) -> bytes:
        return b""


def _file_response(entry: ManifestEntry) -> FileResponse:
    try:
        handle = files.open_file(entry)
    except FileNotFoundError:
        raise NotFound(
            f"The content of '{entry.path}' has not been uploaded yet; upload it first."
        ) from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=posixpath.basename(entry.path),
        content_type="application/octet-stream",
    )
    response["Content-Length"] = str(entry.size)
    response["ETag"] = f'"{entry.sha256}"'
    response["X-Checksum-Sha256"] = entry.sha256
    response["Content-MD5"] = entry.md5
    return response


class SignedDownloadViewSet(ApiViewSet):
    """The target of signed download URLs: no Authorization header is read or needed."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list[type[BaseThrottle]] = [SignedDownloadRateThrottle]
    pagination_class = None
    filter_backends = []
    lookup_value_regex = "[A-Za-z0-9_:=-]+"

    @extend_schema(
        summary="Download a file by signed URL",
        description=(
            "Needs no credentials. An expired, altered or no longer valid URL gets 403 with "
            "the error body; request a new one."
        ),
        auth=[],
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
    )
    def retrieve(self, request, token: str):
        entry = files.read_signed_download(token)
        return _file_response(entry)
