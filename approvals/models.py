"""A release's checklist items, their sign-offs and approvers' delegations.

An item's `revision` goes up whenever its status, evidence or text changes; an approval
counts only for the revision it was given for (older ones are stale). `completion_seq`
goes up each time the item is marked done (or not applicable); a rejection stands while
the item has not been completed again since.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.db.models import Q
from django.utils.text import get_valid_filename
from django.utils.translation import gettext_lazy as _

from checklists.models import Category


def evidence_path(item: ChecklistItem, filename: str) -> str:
    """Where an uploaded evidence file is kept: by release and item, under a random name
    (the original name is kept at the end, for the download)."""
    return f"evidence/{item.release_id}/{item.pk}/{uuid.uuid4().hex}/{get_valid_filename(filename)}"


class ChecklistItem(models.Model):
    class State(models.TextChoices):
        OPEN = "open", _("Open")
        IN_PROGRESS = "in_progress", _("In progress")
        DONE = "done", _("Done")
        BLOCKED = "blocked", _("Blocked")
        NOT_APPLICABLE = "not_applicable", _("Not applicable")

    FINISHED_STATES = (State.DONE, State.NOT_APPLICABLE)

    release = models.ForeignKey("releases.Release", on_delete=models.CASCADE, related_name="items")
    # The snapshot's source: template version and the item's stable key in it.
    template = models.ForeignKey(
        "checklists.ChecklistTemplate",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    source_slug = models.SlugField(max_length=100, blank=True)
    source_key = models.SlugField(max_length=100, blank=True)
    section = models.CharField(max_length=200, blank=True)
    order = models.PositiveIntegerField(default=0)

    title = models.CharField(max_length=300)
    guidance = models.TextField(blank=True)
    category = models.CharField(max_length=32, choices=Category.choices)
    required = models.BooleanField(default=True)
    approver_role = models.ForeignKey(Group, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    required_signoffs = models.PositiveSmallIntegerField(default=1)
    evidence_required = models.BooleanField(default=False)
    due_offset_days = models.IntegerField(null=True, blank=True)
    condition_flag = models.CharField(max_length=50, blank=True)

    state = models.CharField(max_length=20, choices=State.choices, default=State.OPEN, db_index=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_items",
    )
    evidence_url = models.URLField(max_length=1000, blank=True)
    # Stored through Django's storage API; served only by the item's evidence view, which
    # checks that the viewer sees the release.
    evidence_file = models.FileField(upload_to=evidence_path, max_length=300, blank=True)
    note = models.TextField(blank=True)
    justification = models.TextField(blank=True)
    blocked_reason = models.TextField(blank=True)
    due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    revision = models.PositiveIntegerField(default=1)
    completion_seq = models.PositiveIntegerField(default=0)
    is_adhoc = models.BooleanField(default=False)
    # When a person last changed it (edited, assigned or worked it; a sign-off needs it
    # worked). Never set and never signed, the item is as its template made it: a template
    # upgrade or an unset flag may replace or remove it.
    edited_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Sign-off status, kept by the services in the same transaction as every change that
    # moves it (approvals.services.status), computed through the one SQL definition in
    # approvals.selectors; `manage.py check_readiness` recomputes and compares.
    # (Database defaults too, so that a process of the version before these columns can
    # still insert rows while a deploy rolls out; `check_readiness --fix` after it.)
    valid_approvals = models.PositiveSmallIntegerField(default=0, db_default=0, editable=False)
    has_rejection = models.BooleanField(default=False, db_default=False, editable=False)
    is_signed = models.BooleanField(default=False, db_default=False, editable=False)
    is_ready = models.BooleanField(default=False, db_default=False, editable=False)

    class Meta:
        ordering = ["order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["release", "source_slug", "source_key"],
                condition=~Q(source_key=""),
                name="item_source_unique_per_release",
            ),
            models.CheckConstraint(
                condition=Q(approver_role__isnull=False) | Q(required_signoffs=0),
                name="item_role_for_signoffs",
            ),
            models.CheckConstraint(
                condition=~Q(state="not_applicable") | ~Q(justification=""),
                name="item_not_applicable_justified",
            ),
        ]
        indexes = [
            models.Index(fields=["release", "state"], name="item_release_state"),
            models.Index(fields=["release", "order", "id"], name="item_release_order"),
            # The dashboard and the sign-off queue: items awaiting a role's sign-off, and
            # releases with required items late. Partial: only the rows still waiting.
            models.Index(
                fields=["approver_role", "due_at"],
                condition=Q(is_signed=False, state__in=["done", "not_applicable"]),
                name="item_awaiting_signoff",
            ),
            models.Index(
                fields=["release", "due_at"], condition=Q(required=True, is_ready=False), name="item_late_required"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def needs_signoff(self) -> bool:
        return self.approver_role_id is not None and self.required_signoffs > 0


class SignOff(models.Model):
    """An approval or a rejection. Never edited or deleted; only revoked (PostgreSQL trigger
    refuses anything else, migration 0002)."""

    class Decision(models.TextChoices):
        APPROVE = "approve", _("Approve")
        REJECT = "reject", _("Reject")

    item = models.ForeignKey(ChecklistItem, on_delete=models.PROTECT, related_name="signoffs")
    # The approver of record; differs from signed_by when a delegate signs on their behalf.
    approver = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    delegation = models.ForeignKey(
        "Delegation", null=True, blank=True, on_delete=models.PROTECT, related_name="signoffs"
    )
    role = models.ForeignKey(Group, on_delete=models.PROTECT, related_name="+")
    decision = models.CharField(max_length=10, choices=Decision.choices)
    comment = models.TextField(blank=True)
    item_revision = models.PositiveIntegerField()
    completion_seq = models.PositiveIntegerField()
    # Separation of duties was relaxed for this release when this sign-off was given.
    self_signoff_relaxed = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            # One standing sign-off per person and item revision: two clicks at once count once.
            models.UniqueConstraint(
                fields=["item", "approver", "item_revision"],
                condition=Q(revoked_at__isnull=True),
                name="signoff_one_per_approver",
            ),
            models.UniqueConstraint(
                fields=["item", "signed_by", "item_revision"],
                condition=Q(revoked_at__isnull=True),
                name="signoff_one_per_signer",
            ),
            models.CheckConstraint(
                condition=Q(decision="approve") | ~Q(comment=""),
                name="signoff_rejection_has_comment",
            ),
            models.CheckConstraint(
                condition=Q(revoked_at__isnull=True) | ~Q(revoked_reason=""),
                name="signoff_revocation_has_reason",
            ),
        ]
        # The standing sign-offs of an item, as the status computation and the services look
        # them up (by item, then decision and the revision or completion they were given for).
        indexes = [
            models.Index(
                fields=["item", "decision", "item_revision", "completion_seq"],
                condition=Q(revoked_at__isnull=True),
                name="signoff_standing",
            )
        ]

    def __str__(self) -> str:
        # No words: it is kept as the audit event's target, shown next to the action's own
        # (translated) label in whichever language the reader uses.
        return f"{self.item} ({self.approver})"

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


class Delegation(models.Model):
    """An approver away names a delegate holding the same role for a date range."""

    delegator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="delegations_given")
    delegate = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="delegations_received"
    )
    role = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="+")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-starts_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="delegation_range_valid"),
            models.CheckConstraint(condition=~Q(delegator=models.F("delegate")), name="delegation_not_to_self"),
        ]

    def __str__(self) -> str:
        return f"{self.delegator} → {self.delegate} ({self.role}) {self.starts_at:%Y-%m-%d}–{self.ends_at:%Y-%m-%d}"


class Comment(models.Model):
    """A comment on an item. Append-only, audited; `@username` mentions are kept for the
    notifications."""

    item = models.ForeignKey(ChecklistItem, on_delete=models.PROTECT, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField()
    mentions = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["item", "created_at"], name="comment_item_time")]

    def __str__(self) -> str:
        return f"{self.author_id} on {self.item_id}: {self.body[:50]}"
