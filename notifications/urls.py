from django.urls import path, re_path

from . import views
from .api import announcements as announcements_api
from .api import inbox, me
from .api import reports as reports_api
from .views import announcements as announcements_views
from .views import inbox as inbox_pages
from .views.mailbox import mailbox
from .views.unsubscribe import unsubscribe

api_urlpatterns = [
    path("notifications/", inbox.NotificationListView.as_view(), name="api-notifications"),
    path("notifications/read-all/", inbox.NotificationReadAllView.as_view(), name="api-notifications-read-all"),
    path("notifications/<int:pk>/read/", inbox.NotificationReadView.as_view(), name="api-notification-read"),
    path("me/", me.MeView.as_view(), name="api-me"),
    path("me/calendar-token/", me.MeCalendarTokenView.as_view(), name="api-me-calendar-token"),
    # Exactly this path, without a trailing slash: calendar applications are given the URL as is.
    re_path(r"^calendar/(?P<token>[A-Za-z0-9_-]{1,64})\.ics$", me.CalendarFeedView.as_view(), name="api-calendar"),
    path("releases/<int:pk>/reports/", reports_api.ReleaseReportListView.as_view(), name="api-release-reports"),
    path("releases/<int:pk>/checklist.csv", reports_api.ReleaseChecklistCsvView.as_view(), name="api-checklist-csv"),
    path("reports/<int:pk>/", reports_api.ReportDetailView.as_view(), name="api-report"),
    path("reports/<int:pk>/pdf/", reports_api.ReportPdfView.as_view(), name="api-report-pdf"),
]

web_urlpatterns = [
    path("profile/", views.profile, name="profile"),
    path("profile/token/", views.token_issue, name="profile-token"),
    path("unsubscribe/<str:token>/", unsubscribe, name="unsubscribe"),
    path("inbox/", inbox_pages.inbox, name="inbox"),
    path("inbox/read-all/", inbox_pages.inbox_read_all, name="inbox-read-all"),
    path("inbox/<int:pk>/read/", inbox_pages.inbox_read, name="inbox-read"),
    path("inbox/preferences/", inbox_pages.preferences, name="notification-preferences"),
    path("profile/calendar/", views.calendar_rotate, name="profile-calendar"),
    path("mail/", mailbox, name="mailbox"),
    path("releases/<int:pk>/reports/", views.release_reports, name="release-reports"),
    path("releases/<int:pk>/report/", views.release_report_print, name="release-report-print"),
    path("releases/<int:pk>/checklist.csv", views.release_checklist_csv, name="release-checklist-csv"),
    path("reports/<int:pk>/pdf/", views.report_download, name="report-download"),
]

api_urlpatterns += [
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
