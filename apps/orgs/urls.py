from django.urls import path

from apps.orgs import views

app_name = "orgs"

urlpatterns = [
    path("profile/api-keys/", views.api_key_list, name="api_key_list"),
    path("profile/api-keys/<int:pk>/revoke/", views.api_key_revoke, name="api_key_revoke"),
]
