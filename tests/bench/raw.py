"""The floors the API is measured against: the same rows fetched with hand-written SQL and
serialised with `json`, no ORM, no DRF (what the data costs to read at all)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.db import connection

ITEM_SQL = """
SELECT i.id, i.release_id, i.section, i."order", i.title, i.guidance, i.category, i.required,
       g.name AS approver_role, i.required_signoffs, i.evidence_required, i.condition_flag, i.state,
       i.assignee_id AS assignee, u.username AS assignee_username, i.evidence_url, i.note, i.justification,
       i.blocked_reason, i.due_at, i.due_offset_days,
       (i.due_at < now() AND i.state NOT IN ('done', 'not_applicable')) AS overdue,
       i.completed_by_id AS completed_by, i.completed_at, i.revision, i.is_adhoc, i.source_slug, i.source_key,
       i.valid_approvals, i.has_rejection, i.is_signed, i.is_ready, i.created_at, i.updated_at
FROM approvals_checklistitem i
LEFT JOIN auth_group g ON g.id = i.approver_role_id
LEFT JOIN auth_user u ON u.id = i.assignee_id
WHERE i.release_id = %s
ORDER BY i."order", i.id
LIMIT %s OFFSET %s
"""

SIGNOFF_SQL = """
SELECT s.id, s.item_id AS item, s.approver_id AS approver, a.username AS approver_username,
       s.signed_by_id AS signed_by, b.username AS signed_by_username, s.approver_id <> s.signed_by_id AS on_behalf,
       r.name AS role, s.decision, s.comment, s.created_at,
       CASE WHEN s.decision = 'approve' THEN s.item_revision <> i.revision
            ELSE s.completion_seq <> i.completion_seq END AS stale,
       s.revoked_at IS NOT NULL AS revoked,
       (s.revoked_at IS NULL AND (
           (s.decision = 'approve' AND s.item_revision = i.revision AND (rel.allow_self_signoff OR NOT (
               s.approver_id IN (COALESCE(i.assignee_id, 0), COALESCE(i.completed_by_id, 0))
               OR s.signed_by_id IN (COALESCE(i.assignee_id, 0), COALESCE(i.completed_by_id, 0)))))
           OR (s.decision = 'reject' AND s.completion_seq = i.completion_seq))) AS counts,
       s.revoked_at, s.revoked_reason, s.self_signoff_relaxed
FROM approvals_signoff s
JOIN approvals_checklistitem i ON i.id = s.item_id
JOIN releases_release rel ON rel.id = i.release_id
JOIN auth_user a ON a.id = s.approver_id
JOIN auth_user b ON b.id = s.signed_by_id
JOIN auth_group r ON r.id = s.role_id
WHERE s.item_id = ANY(%s)
ORDER BY s.created_at, s.id
"""

RELEASE_SQL = """
SELECT r.id, r.project_id AS project, p.name AS project_name, r.name, r.version, r.description, r.state,
       r.readiness, r.required_total, r.required_ready, r.go_live_at, r.window_end_at, r.git_ref, r.rollback_plan,
       r.flags, r.stakeholder_emails, r.allow_self_signoff, r.state_reason, r.state_changed_at, r.approved_at,
       r.freeze_override_reason, r.went_live_at, r.completed_at, r.created_at, r.updated_at
FROM releases_release r JOIN releases_project p ON p.id = r.project_id
WHERE r.id = %s
"""


def _rows(sql: str, params: list[Any]) -> list[dict[str, Any]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [c.name for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.datetime) else value


def _json(data: Any) -> bytes:
    return json.dumps(data, default=_value).encode()


def checklist_page(release_id: int, *, page_size: int = 200, page: int = 1) -> bytes:
    """A page of the checklist as the API gives it: the count, the items, their sign-offs."""
    count = _rows("SELECT count(*) AS n FROM approvals_checklistitem WHERE release_id = %s", [release_id])[0]["n"]
    items = _rows(ITEM_SQL, [release_id, page_size, (page - 1) * page_size])
    by_item: dict[int, list[dict[str, Any]]] = {item["id"]: [] for item in items}
    for signoff in _rows(SIGNOFF_SQL, [list(by_item)]):
        by_item[signoff["item"]].append(signoff)
    for item in items:
        item["signoffs"] = by_item[item["id"]]
    return _json({"count": count, "results": items})


def release_detail(release_id: int) -> bytes:
    """One release as the API gives it: its row, project, managers, stakeholders, phases and
    templates."""
    release = _rows(RELEASE_SQL, [release_id])[0]
    release["managers"] = [
        row["user_id"]
        for row in _rows(
            "SELECT g.user_id FROM releases_releaseuserobjectpermission g JOIN auth_permission p "
            "ON p.id = g.permission_id WHERE g.content_object_id = %s AND p.codename = 'manage_release' "
            "ORDER BY g.user_id",
            [release_id],
        )
    ]
    release["stakeholders"] = [
        row["user_id"]
        for row in _rows("SELECT user_id FROM releases_release_stakeholders WHERE release_id = %s", [release_id])
    ]
    release["phases"] = _rows(
        'SELECT id, release_id AS release, name, "order", production, state, started_at, finished_at '
        'FROM releases_phase WHERE release_id = %s ORDER BY "order", id',
        [release_id],
    )
    release["templates"] = _rows(
        "SELECT t.id, u.slug, t.version, t.name FROM releases_releasetemplate u "
        "JOIN checklists_checklisttemplate t ON t.id = u.template_id WHERE u.release_id = %s ORDER BY u.id",
        [release_id],
    )
    return _json(release)
