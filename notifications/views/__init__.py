"""Browser pages of the notifications app, a module per feature."""

from .profile import calendar_rotate, profile, token_issue
from .reports import release_checklist_csv, release_report_print, release_reports, report_download

__all__ = [
    "calendar_rotate",
    "profile",
    "release_checklist_csv",
    "release_report_print",
    "release_reports",
    "report_download",
    "token_issue",
]
