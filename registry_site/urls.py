from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

urlpatterns = [
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("apps.api.urls")),
    path("", include("apps.automations.urls")),
    path("", include("apps.notices.urls")),
    path("", include("apps.registry.urls")),
]

# The 403 page carries the reason (for htmx requests, into the page's status region).
handler403 = "apps.registry.views.permission_denied"
