from django.urls import path

from apps.registry import settings_views, views

app_name = "registry"

REGISTRY = "orgs/<str:org>/registries/<str:registry>/"
SETTINGS = f"{REGISTRY}settings/"
COLLECTION = f"{REGISTRY}collections/<str:collection>/"
VERSION = f"{COLLECTION}versions/v<int:index>/"

urlpatterns = [
    path("", views.home, name="home"),
    path("path/<path:raw>", views.resolve_path, name="resolve_path"),
    # Not under registries/, where "new" could be the name of a registry.
    path("orgs/<str:org>/create-registry/", settings_views.create_registry, name="registry_create"),
    path(REGISTRY, views.registry_detail, name="registry_detail"),
    path(f"{REGISTRY}star/", settings_views.star_registry, name="registry_star"),
    path(f"{REGISTRY}leave/", settings_views.leave_registry, name="registry_leave"),
    path(f"{REGISTRY}members/", settings_views.registry_members, name="registry_members"),
    path(f"{REGISTRY}activity/", settings_views.registry_activity, name="registry_activity"),
    path(f"{REGISTRY}new-collection/", views.create_collection, name="collection_create"),
    path(SETTINGS, settings_views.registry_settings, name="registry_settings"),
    path(f"{SETTINGS}details/", settings_views.edit_registry_details, name="registry_details"),
    path(f"{SETTINGS}types/", settings_views.edit_accepted_types, name="registry_types"),
    path(f"{SETTINGS}visibility/", settings_views.change_visibility, name="registry_visibility"),
    path(
        f"{SETTINGS}protected-aliases/",
        settings_views.add_protected_alias,
        name="protected_alias_add",
    ),
    path(
        f"{SETTINGS}protected-aliases/remove/",
        settings_views.remove_protected_alias,
        name="protected_alias_remove",
    ),
    path(f"{SETTINGS}members/", settings_views.add_member, name="member_add"),
    path(f"{SETTINGS}members/role/", settings_views.change_member_role, name="member_role"),
    path(f"{SETTINGS}members/remove/", settings_views.remove_member, name="member_remove"),
    path(f"{SETTINGS}members/owner/", settings_views.make_owner, name="member_owner"),
    path(
        f"{SETTINGS}members/candidates/",
        settings_views.member_candidates,
        name="member_candidates",
    ),
    path(f"{SETTINGS}delete/", settings_views.delete_registry, name="registry_delete"),
    path(COLLECTION, views.collection_detail, name="collection_detail"),
    path(
        f"{COLLECTION}description/",
        views.edit_collection_description,
        name="collection_description",
    ),
    path(f"{COLLECTION}tags/", views.add_collection_tag, name="collection_tag_add"),
    path(f"{COLLECTION}tags/remove/", views.remove_collection_tag, name="collection_tag_remove"),
    path(f"{COLLECTION}delete/", views.delete_collection, name="collection_delete"),
    path(VERSION, views.version_detail, name="version_detail"),
    path(f"{VERSION}aliases/", views.set_version_alias, name="version_alias_set"),
    path(f"{VERSION}aliases/remove/", views.remove_version_alias, name="version_alias_remove"),
    path(f"{VERSION}tags/", views.add_version_tag, name="version_tag_add"),
    path(f"{VERSION}tags/remove/", views.remove_version_tag, name="version_tag_remove"),
    path(f"{VERSION}description/", views.edit_version_description, name="version_description"),
    path(f"{VERSION}unlink/", views.unlink_version, name="version_unlink"),
    path(
        f"{VERSION}files/<int:file_id>/",
        views.download_version_file,
        name="version_file",
    ),
]
