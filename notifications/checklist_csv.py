"""A release's checklist as CSV, for spreadsheets: UTF-8 with a byte-order mark (so that Excel
reads Czech), headers in the reader's language, and safe to open: a cell that a spreadsheet
would take for a formula (= + - @, tab, carriage return) starts with an apostrophe."""

from __future__ import annotations

import csv
import io
from typing import Any

from django.utils import formats, timezone
from django.utils.translation import gettext as _

from approvals.models import ChecklistItem

from .selectors import checklist_rows_for_csv

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def checklist_csv(release_id: int) -> str:
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow([_("Category"), _("Title"), _("Required"), _("State"), _("Assignee"), _("Due"),
                     _("Approver role"), _("Sign-offs"), _("Evidence URL")])  # fmt: skip
    yes, no = _("yes"), _("no")
    states = dict(ChecklistItem.State.choices)
    item: Any
    for item in checklist_rows_for_csv(release_id):
        due = formats.date_format(timezone.localtime(item.due_at), "Y-m-d H:i") if item.due_at else ""
        needs = bool(item.approver_role_id and item.required_signoffs)
        signoffs = f"{item.valid_approvals}/{item.required_signoffs}" if needs else ""
        writer.writerow([
            safe_cell(v) for v in (
                item.get_category_display(), item.title, yes if item.required else no, states[item.state],
                item.assignee_username or "", due, item.approver_role_name or "", signoffs, item.evidence_url,
            )
        ])  # fmt: skip
    return out.getvalue()


def checklist_csv_name(release: object) -> str:
    from django.utils.text import slugify

    name = slugify(f"{getattr(release, 'name', '')} {getattr(release, 'version', '')}".strip()) or "release"
    return f"{name}-checklist.csv"
