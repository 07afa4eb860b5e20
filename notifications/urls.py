from django.urls import path

from . import views
from .views.unsubscribe import unsubscribe

web_urlpatterns = [
    path("profile/", views.profile, name="profile"),
    path("profile/token/", views.token_issue, name="profile-token"),
    path("unsubscribe/<str:token>/", unsubscribe, name="unsubscribe"),
]

from .api import announcements as announcements_api  # noqa: E402
from .views import announcements as announcements_views  # noqa: E402

api_urlpatterns = [
    path("audiences/", announcements_api.AudienceListView.as_view(), name="api-audiences"),
    path("audiences/<int:pk>/", announcements_api.AudienceDetailView.as_view(), name="api-audience"),
    path("audiences/<int:pk>/import/", announcements_api.AudienceImportView.as_view(), name="api-audience-import"),
    path(
        "releases/<int:pk>/announcements/",
        announcements_api.ReleaseAnnouncementListView.as_view(),
        name="api-release-announcements",
    ),
    path("announcements/<int:pk>/", announcements_api.AnnouncementDetailView.as_view(), name="api-announcement"),
]

web_urlpatterns += [
    path("audiences/", announcements_views.audience_list, name="audience-list"),
    path("audiences/new/", announcements_views.audience_new, name="audience-new"),
    path("audiences/<int:pk>/", announcements_views.audience_edit, name="audience-edit"),
    path("audiences/<int:pk>/delete/", announcements_views.audience_delete_view, name="audience-delete"),
    path("releases/<int:pk>/announce/", announcements_views.announcement_new, name="announcement-new"),
    path("announcements/<int:pk>/", announcements_views.announcement_detail, name="announcement-detail"),
    path(
        "announcements/<int:pk>/progress/", announcements_views.announcement_progress_view, name="announcement-progress"
    ),
    path("announcements/<int:pk>/cancel/", announcements_views.announcement_cancel_view, name="announcement-cancel"),
]
