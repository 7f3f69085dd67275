from django.urls import path

from apps.notices import views

app_name = "notices"

urlpatterns = [
    path("notices/<int:pk>/dismiss/", views.dismiss_notice, name="dismiss"),
    path("profile/", views.edit_profile, name="profile"),
    path("support/notices/", views.notice_list, name="support_list"),
    path("support/notices/new/", views.notice_create, name="support_create"),
    path("support/notices/<int:pk>/edit/", views.notice_edit, name="support_edit"),
    path("support/notices/<int:pk>/end/", views.notice_end, name="support_end"),
    path("support/notices/<int:pk>/preview/", views.notice_preview, name="support_preview"),
]
