"""Routes of the GraphQL API: the endpoint, at /graphql without a trailing slash as the
SDK posts to it, and the signed manifest downloads."""

from django.urls import path

from apps.graphql_api.views import GraphQLViewSet, ManifestViewSet

app_name = "graphql_api"

urlpatterns = [
    path("graphql", GraphQLViewSet.as_view({"post": "execute"}), name="endpoint"),
    path(
        "graphql/manifests/<str:token>/",
        ManifestViewSet.as_view({"get": "retrieve"}),
        name="manifest",
    ),
]
