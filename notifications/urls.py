from django.urls import path

from . import views
from .api import reports as reports_api
from .views.unsubscribe import unsubscribe

api_urlpatterns = [
    path("releases/<int:pk>/reports/", reports_api.ReleaseReportListView.as_view(), name="api-release-reports"),
    path("releases/<int:pk>/checklist.csv", reports_api.ReleaseChecklistCsvView.as_view(), name="api-checklist-csv"),
    path("reports/<int:pk>/", reports_api.ReportDetailView.as_view(), name="api-report"),
    path("reports/<int:pk>/pdf/", reports_api.ReportPdfView.as_view(), name="api-report-pdf"),
]

web_urlpatterns = [
    path("profile/", views.profile, name="profile"),
    path("profile/token/", views.token_issue, name="profile-token"),
    path("unsubscribe/<str:token>/", unsubscribe, name="unsubscribe"),
    path("releases/<int:pk>/reports/", views.release_reports, name="release-reports"),
    path("releases/<int:pk>/report/", views.release_report_print, name="release-report-print"),
    path("releases/<int:pk>/checklist.csv", views.release_checklist_csv, name="release-checklist-csv"),
    path("reports/<int:pk>/pdf/", views.report_download, name="report-download"),
]
