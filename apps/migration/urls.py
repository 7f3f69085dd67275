from django.urls import path

from apps.migration import views

app_name = "migration"

urlpatterns = [
    path("support/migrations/", views.plan_list, name="plan_list"),
    path("support/migrations/new/", views.plan_create, name="plan_create"),
    path("support/migrations/<int:pk>/", views.plan_detail, name="plan_detail"),
    path("support/migrations/<int:pk>/progress/", views.plan_progress, name="plan_progress"),
    path("support/migrations/<int:pk>/move/", views.plan_move, name="plan_move"),
    path("support/migrations/<int:pk>/<slug:action>/", views.plan_action, name="plan_action"),
]
