from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from apps.legacy import views as legacy_views

urlpatterns = [
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("apps.api.urls")),
    # POST /graphql for the wandb SDK, and the signed manifest URLs of its answers.
    path("", include("apps.graphql_api.urls")),
    # Every artifact path, legacy ones included. It shadows the registry app's own /path/
    # route, whose name still reverses to the same URL.
    path("path/<path:raw>", legacy_views.open_path, name="open_path"),
    path("", include("apps.legacy.urls")),
    path("", include("apps.automations.urls")),
    path("", include("apps.notices.urls")),
    path("", include("apps.orgs.urls")),
    path("", include("apps.migration.urls")),
    path("", include("apps.registry.urls")),
]

# The 403 page carries the reason (for htmx requests, into the page's status region).
handler403 = "apps.registry.views.permission_denied"
