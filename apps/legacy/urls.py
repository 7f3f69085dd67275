"""The pages of a team's legacy Model Registry, under the team.

A registered model's name cannot contain '/', so every fixed word below sits at a depth where
no model URL has a variable part, and no model name can shadow it.
"""

from django.urls import path

from apps.legacy import views

app_name = "legacy"

REGISTRY = "orgs/<str:org>/teams/<str:team>/model-registry/"
MODEL = f"{REGISTRY}<str:name>/"
VERSION = f"{MODEL}versions/v<int:index>/"

urlpatterns = [
    path(REGISTRY, views.model_list, name="model_list"),
    path(f"{REGISTRY}models/create/", views.create_model, name="model_create"),
    path(
        f"{REGISTRY}protected-aliases/add/",
        views.add_protected_alias,
        name="protected_alias_add",
    ),
    path(
        f"{REGISTRY}protected-aliases/remove/",
        views.remove_protected_alias,
        name="protected_alias_remove",
    ),
    path(MODEL, views.model_detail, name="model_detail"),
    path(f"{MODEL}description/", views.edit_model_description, name="model_description"),
    path(f"{MODEL}tags/", views.add_model_tag, name="model_tag_add"),
    path(f"{MODEL}tags/remove/", views.remove_model_tag, name="model_tag_remove"),
    path(f"{MODEL}link/", views.link_version, name="version_link"),
    path(VERSION, views.version_detail, name="version_detail"),
    path(f"{VERSION}unlink/", views.unlink_version, name="version_unlink"),
    path(f"{VERSION}aliases/", views.set_version_alias, name="version_alias_set"),
    path(f"{VERSION}aliases/remove/", views.remove_version_alias, name="version_alias_remove"),
    path(f"{VERSION}tags/", views.add_version_tag, name="version_tag_add"),
    path(f"{VERSION}tags/remove/", views.remove_version_tag, name="version_tag_remove"),
    path(f"{VERSION}description/", views.edit_version_description, name="version_description"),
]
