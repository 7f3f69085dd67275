from django.urls import path

from apps.registry import views

app_name = "registry"

REGISTRY = "orgs/<str:org>/registries/<str:registry>/"
COLLECTION = f"{REGISTRY}collections/<str:collection>/"
VERSION = f"{COLLECTION}versions/v<int:index>/"

urlpatterns = [
    path("", views.home, name="home"),
    path("path/<path:raw>", views.resolve_path, name="resolve_path"),
    path(REGISTRY, views.registry_detail, name="registry_detail"),
    path(COLLECTION, views.collection_detail, name="collection_detail"),
    path(
        f"{COLLECTION}description/",
        views.edit_collection_description,
        name="collection_description",
    ),
    path(f"{COLLECTION}tags/", views.add_collection_tag, name="collection_tag_add"),
    path(f"{COLLECTION}tags/remove/", views.remove_collection_tag, name="collection_tag_remove"),
    path(VERSION, views.version_detail, name="version_detail"),
    path(f"{VERSION}aliases/", views.set_version_alias, name="version_alias_set"),
    path(f"{VERSION}aliases/remove/", views.remove_version_alias, name="version_alias_remove"),
    path(f"{VERSION}tags/", views.add_version_tag, name="version_tag_add"),
    path(f"{VERSION}tags/remove/", views.remove_version_tag, name="version_tag_remove"),
    path(f"{VERSION}description/", views.edit_version_description, name="version_description"),
]
