"""Routes of the REST API, mounted at /api/v1/.

Names in URLs are matched without regard to case, so each part accepts any character but
'/'; the response carries the stored spelling.
"""

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from apps.api.errors import not_found_view
from apps.api.views import account, artifacts, collections, notices, registries, resolve
from apps.automations import api as automations

app_name = "api"

NAME = "[^/]+"
ORG = f"orgs/(?P<org>{NAME})"
REGISTRY = f"{ORG}/registries/(?P<registry>{NAME})"
COLLECTION = f"{REGISTRY}/collections/(?P<collection>{NAME})"
TEAM = f"{ORG}/teams/(?P<team>{NAME})"
PROJECT = f"{TEAM}/projects/(?P<project>{NAME})"

router = SimpleRouter()
router.register(f"{ORG}/registries", registries.RegistryViewSet, basename="registry")
router.register(f"{REGISTRY}/members", registries.RegistryMemberViewSet, basename="member")
router.register(f"{REGISTRY}/members/users", registries.UserMemberViewSet, basename="user-member")
router.register(f"{REGISTRY}/members/teams", registries.TeamMemberViewSet, basename="team-member")
router.register(
    f"{REGISTRY}/protected-aliases", registries.ProtectedAliasViewSet, basename="protected-alias"
)
router.register(f"{REGISTRY}/activity", registries.RegistryActivityViewSet, basename="activity")
router.register(f"{REGISTRY}/collections", collections.CollectionViewSet, basename="collection")
router.register(f"{COLLECTION}/history", collections.CollectionHistoryViewSet, basename="history")
router.register(f"{COLLECTION}/versions", collections.LinkViewSet, basename="link")
router.register(f"{COLLECTION}/aliases", collections.AliasViewSet, basename="alias")
router.register(f"{TEAM}/projects", artifacts.ProjectViewSet, basename="project")
router.register(f"{PROJECT}/artifacts", artifacts.ArtifactViewSet, basename="artifact")
router.register(
    f"{PROJECT}/artifacts/(?P<artifact>{NAME})/versions",
    artifacts.ArtifactVersionListViewSet,
    basename="artifact-version-list",
)
router.register("artifact-versions", artifacts.ArtifactVersionViewSet, basename="artifact-version")
router.register("me/api-keys", account.ApiKeyViewSet, basename="api-key")
router.register("me/notices", notices.NoticeViewSet, basename="notice")
router.register(f"{TEAM}/integrations", automations.IntegrationViewSet, basename="integration")
router.register(f"{REGISTRY}/automations", automations.AutomationViewSet, basename="automation")
router.register(f"{REGISTRY}/executions", automations.ExecutionViewSet, basename="execution")

# Swagger UI sets inline styles on its elements; its scripts stay limited to our own files.
docs_view = csp_update({"style-src": [UNSAFE_INLINE]})(
    SpectacularSwaggerSplitView.as_view(url_name="api:schema")
)

# Singleton resources have no list/detail pair, so they are mapped by hand.
star = registries.RegistryStarViewSet.as_view({"put": "update", "delete": "destroy"})
owner = registries.RegistryOwnerViewSet.as_view({"put": "update"})
member_users = {"get": "retrieve", "patch": "partial_update", "delete": "destroy"}

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", docs_view, name="docs"),
    path("me/", account.MeViewSet.as_view({"get": "retrieve"}), name="me"),
    path("resolve/", resolve.ResolveViewSet.as_view({"get": "retrieve"}), name="resolve"),
    re_path(rf"^{REGISTRY}/star/$", star, name="registry-star"),
    re_path(rf"^{REGISTRY}/owner/$", owner, name="registry-owner"),
    path(
        "files/signed/<str:token>/",
        artifacts.SignedDownloadViewSet.as_view({"get": "retrieve"}),
        name="signed-download",
    ),
    *router.urls,
    # Anything else under /api/v1/ gets the API's JSON 404 rather than an HTML page.
    re_path(r"^.*$", not_found_view),
]
