"""The checklist's rows on the release page, built in Python rather than in the template.

A release may have hundreds of items; Django's template engine costs about a millisecond a
row here (a dozen tags and lookups each), which made the page of a 500-item checklist
several times slower than reading its rows. `format_html` escapes exactly as the template
would; the words are translated once per page. The rest of the page stays in its template
(templates/releases/release_detail.html, partial `checklist`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _


def _signoffs(item: Any, words: dict[str, str]) -> SafeString | str:
    if not item.approver_role_id:
        return ""
    if item.has_rejection:
        status = format_html('<span class="state-blocked">{}</span>', words["rejected"])
    elif item.is_signed:
        status = format_html('<span class="state-done">✔ {}</span>', words["signed"])
    else:
        status = format_html("{}/{}", item.valid_approvals, item.required_signoffs)
    return format_html("<span>{} {}</span>", status, item.approver_role_name)


def _due(item: Any, words: dict[str, str], days: dict[Any, str]) -> SafeString | str:
    if not item.due_at:
        return ""
    when = timezone.localtime(item.due_at).date()
    if when not in days:  # items share due dates: format each day once
        days[when] = formats.date_format(when, "SHORT_DATE_FORMAT", use_l10n=True)
    day = days[when]
    if item.overdue:
        return format_html('<span class="overdue">{} {}</span>', words["overdue"], day)
    return format_html("<span>{}</span>", day)


def checklist_rows(items: Iterable[Any], items_path: str) -> SafeString:
    """`<li>` rows of items read by approvals.selectors.checklist_items (due dates in the
    active time zone, as the template's `date` filter would show them)."""
    words = {
        "optional": _("optional"),
        "unassigned": _("unassigned"),
        "overdue": _("overdue"),
        "rejected": _("rejected"),
        "signed": _("signed"),
    }
    rows = []
    days: dict[Any, str] = {}
    for item in items:
        assignee = (
            format_html("<span>{}</span>", item.assignee_username)
            if item.assignee_username
            else format_html('<span><span class="muted">{}</span></span>', words["unassigned"])
        )
        optional = "" if item.required else format_html('<span class="muted">{}</span>', words["optional"])
        url = f"{items_path}{item.pk}/"
        rows.append(
            (item.pk, item.state, item.get_state_display(), url, f"{url}panel/", item.title, optional, assignee,
             _due(item, words, days), _signoffs(item, words))
        )  # fmt: skip
    return format_html_join(
        "\n",
        '<li class="item-row" id="item-{}"><span class="badge state-{}">{}</span> '
        '<a class="title" href="{}" hx-get="{}" hx-target="#item-panel">{}</a> {} {} {} {}</li>',
        rows,
    )
