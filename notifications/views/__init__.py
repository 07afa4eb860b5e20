"""Browser pages of the notifications app, a module per feature."""

from .profile import profile, token_issue
from .reports import release_checklist_csv, release_report_print, release_reports, report_download

__all__ = ["profile", "release_checklist_csv", "release_report_print", "release_reports", "report_download",
           "token_issue"]  # fmt: skip
