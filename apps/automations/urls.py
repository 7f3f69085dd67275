from django.urls import path

from apps.automations import views

app_name = "automations"

AUTOMATIONS = "orgs/<str:org>/registries/<str:registry>/automations/"
INTEGRATIONS = "orgs/<str:org>/teams/<str:team>/integrations/"

urlpatterns = [
    path(AUTOMATIONS, views.automation_list, name="automation_list"),
    path(f"{AUTOMATIONS}history/", views.execution_history, name="execution_history"),
    path(f"{AUTOMATIONS}<int:pk>/delete/", views.delete_automation, name="automation_delete"),
    path(f"{AUTOMATIONS}<int:pk>/toggle/", views.toggle_automation, name="automation_toggle"),
    path(f"{AUTOMATIONS}<int:pk>/test/", views.test_automation, name="automation_test"),
    path(INTEGRATIONS, views.integration_list, name="integration_list"),
    path(f"{INTEGRATIONS}<int:pk>/", views.edit_integration, name="integration_edit"),
    path(f"{INTEGRATIONS}<int:pk>/delete/", views.delete_integration, name="integration_delete"),
    path(f"{INTEGRATIONS}<int:pk>/test/", views.test_integration, name="integration_test"),
]
