"""The site's URLs plus the plain comparison views of bench/plain_views.py, under /bench/."""

from django.urls import include, path

from bench import plain_views
from registry_site.urls import handler403  # noqa: F401 (Django reads it from the URLconf)

REGISTRY = "bench/plain/orgs/<str:org>/registries/<str:registry>/"
COLLECTION = f"{REGISTRY}collections/<str:collection>/"

urlpatterns = [
    path(REGISTRY, plain_views.registry_page, name="plain_registry"),
    path(COLLECTION, plain_views.collection_page, name="plain_collection"),
    path(f"{COLLECTION}versions/", plain_views.link_list, name="plain_link_list"),
    path("bench/plain/resolve/", plain_views.resolve, name="plain_resolve"),
    path("", include("registry_site.urls")),
]
