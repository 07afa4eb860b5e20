from django.urls import path

from . import api
from .views import dashboard, freeze_windows, projects, releases

api_urlpatterns = [
    path("projects/", api.ProjectListView.as_view(), name="api-projects"),
    path("projects/<int:pk>/", api.ProjectDetailView.as_view(), name="api-project"),
    path("projects/<int:pk>/members/", api.ProjectMemberListView.as_view(), name="api-project-members"),
    path(
        "projects/<int:pk>/members/<int:user_id>/",
        api.ProjectMemberDetailView.as_view(),
        name="api-project-member",
    ),
    path("releases/", api.ReleaseListView.as_view(), name="api-releases"),
    path("releases/<int:pk>/", api.ReleaseDetailView.as_view(), name="api-release"),
    path("releases/<int:pk>/transition/", api.ReleaseTransitionView.as_view(), name="api-release-transition"),
    path(
        "releases/<int:pk>/template-upgrade/",
        api.ReleaseTemplateUpgradeView.as_view(),
        name="api-release-template-upgrade",
    ),
    path("releases/<int:pk>/phases/", api.ReleasePhaseListView.as_view(), name="api-release-phases"),
    path("releases/<int:pk>/audit/", api.ReleaseAuditView.as_view(), name="api-release-audit"),
    path("phases/<int:pk>/transition/", api.PhaseTransitionView.as_view(), name="api-phase-transition"),
    path("freeze-windows/", api.FreezeWindowListView.as_view(), name="api-freeze-windows"),
    path("freeze-windows/<int:pk>/", api.FreezeWindowDetailView.as_view(), name="api-freeze-window"),
]

web_urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("releases/", releases.release_list, name="release-list"),
    path("releases/new/", releases.release_new, name="release-new"),
    path("releases/new/preview/", releases.release_preview, name="release-preview"),
    path("releases/<int:pk>/", releases.release_detail, name="release-detail"),
    path("releases/<int:pk>/edit/", releases.release_edit, name="release-edit"),
    path("releases/<int:pk>/live/", releases.release_live, name="release-live"),
    path("releases/<int:pk>/transition/", releases.release_transition, name="release-transition"),
    path("releases/<int:pk>/phases/", releases.phase_create, name="phase-create"),
    path("releases/<int:pk>/phases/<int:phase_pk>/", releases.phase_transition, name="phase-transition"),
    path("releases/<int:pk>/upgrade/<slug:slug>/", releases.release_upgrade, name="release-upgrade"),
    # freeze windows
    path("freeze-windows/", freeze_windows.freeze_window_list, name="freeze-window-list"),
    path("freeze-windows/new/", freeze_windows.freeze_window_new, name="freeze-window-new"),
    path("freeze-windows/<int:pk>/edit/", freeze_windows.freeze_window_edit, name="freeze-window-edit"),
    path("freeze-windows/<int:pk>/delete/", freeze_windows.freeze_window_delete_confirm, name="freeze-window-delete"),
    # projects
    path("projects/", projects.project_list, name="project-list"),
    path("projects/<int:pk>/", projects.project_detail, name="project-detail"),
    path("projects/<int:pk>/members/", projects.project_member_add_view, name="project-member-add"),
    path(
        "projects/<int:pk>/members/<int:user_id>/remove/",
        projects.project_member_remove_view,
        name="project-member-remove",
    ),
]
