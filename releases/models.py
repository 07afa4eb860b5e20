from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase


class Project(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ProjectMembership(models.Model):
    class Role(models.TextChoices):
        MEMBER = "member", _("Member")
        ADMIN = "admin", _("Administrator")

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="project_memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["project", "user"], name="membership_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.project} ({self.role})"


class Release(models.Model):
    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        IN_PROGRESS = "in_progress", _("In progress")
        APPROVED = "approved", _("Approved")
        LIVE = "live", _("Live")
        COMPLETED = "completed", _("Completed")
        CANCELLED = "cancelled", _("Cancelled")
        ROLLED_BACK = "rolled_back", _("Rolled back")

    # Nothing about a closed release changes any more.
    CLOSED_STATES = (State.COMPLETED, State.CANCELLED, State.ROLLED_BACK)
    NOT_YET_LIVE_STATES = (State.DRAFT, State.IN_PROGRESS, State.APPROVED)

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="releases")
    name = models.CharField(max_length=200)
    version = models.CharField(max_length=100, blank=True)
    description = models.TextField(blank=True)
    state = models.CharField(max_length=20, choices=State.choices, default=State.DRAFT, db_index=True)
    go_live_at = models.DateTimeField(null=True, blank=True, db_index=True)
    window_end_at = models.DateTimeField(null=True, blank=True)
    git_ref = models.CharField("git tag or commit", max_length=200, blank=True)
    rollback_plan = models.TextField(blank=True)
    flags = models.JSONField(default=list, blank=True)
    allow_self_signoff = models.BooleanField(
        default=False,
        help_text="Relaxes separation of duties: assignees may sign off their own items.",
    )
    stakeholders = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="followed_releases")
    stakeholder_emails = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # What the last transitions recorded (the full history is in the audit trail).
    state_changed_at = models.DateTimeField(null=True, blank=True)
    state_reason = models.TextField(blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    freeze_override_reason = models.TextField(blank=True)
    went_live_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    # Readiness: required items done and signed / required items, and the percentage lists
    # show and sort by. Kept by the services in the same transaction as every change that
    # moves it (approvals.services.status); `manage.py check_readiness` recomputes and compares.
    required_total = models.PositiveIntegerField(default=0, db_default=0, editable=False)
    required_ready = models.PositiveIntegerField(default=0, db_default=0, editable=False)
    readiness = models.PositiveSmallIntegerField(default=0, db_default=0, editable=False)

    class Meta:
        ordering = ["-go_live_at", "-id"]
        # Lists read a page in this order, stopping at the page's end instead of sorting all.
        indexes = [models.Index(fields=["-go_live_at", "-id"], name="release_list_order")]
        permissions = [
            ("manage_release", "Can manage the release"),
            ("override_freeze", "Can override a freeze window"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(window_end_at__isnull=True)
                | Q(go_live_at__isnull=True)
                | Q(window_end_at__gte=models.F("go_live_at")),
                name="release_window_after_go_live",
            ),
            models.CheckConstraint(
                condition=Q(required_ready__lte=models.F("required_total")) & Q(readiness__lte=100),
                name="release_readiness_in_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.version}".strip()

    @property
    def is_closed(self) -> bool:
        """Completed, cancelled or rolled back: nothing about it changes any more."""
        return self.state in self.CLOSED_STATES

    @property
    def checklist_upgradable(self) -> bool:
        """Neither live nor closed: its templates may move to a newer version."""
        return self.state != self.State.LIVE and not self.is_closed

    @property
    def production_may_start(self) -> bool:
        """Approved or live: a production phase may start."""
        return self.state in (self.State.APPROVED, self.State.LIVE)

    @property
    def signoffs_final(self) -> bool:
        """Live or closed: its sign-offs can no longer be revoked."""
        return self.state == self.State.LIVE or self.is_closed


class ReleaseUserObjectPermission(UserObjectPermissionBase):
    """Direct foreign key for guardian: fast joins, and permissions go with the release."""

    content_object = models.ForeignKey(Release, on_delete=models.CASCADE)


class ReleaseGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Release, on_delete=models.CASCADE)


class ReleaseTemplate(models.Model):
    """Which template version a release's checklist was made from (the snapshot's source)."""

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="applied_templates")
    template = models.ForeignKey("checklists.ChecklistTemplate", on_delete=models.PROTECT, related_name="release_uses")
    slug = models.SlugField(max_length=100)
    applied_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["applied_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["release", "slug"], name="release_template_slug_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.release} ← {self.template}"


class Phase(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        IN_PROGRESS = "in_progress", _("In progress")
        DONE = "done", _("Done")
        ROLLED_BACK = "rolled_back", _("Rolled back")

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="phases")
    name = models.CharField(max_length=200)
    order = models.PositiveIntegerField()
    production = models.BooleanField(default=True)
    state = models.CharField(max_length=20, choices=State.choices, default=State.PENDING)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["release", "order"], name="phase_order_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.order}. {self.name}"


class FreezeWindow(models.Model):
    """A blackout period: one-off (starts_at..ends_at) or weekly (weekday, start..end time).

    A weekly window whose end_time is not after start_time runs over midnight.
    """

    name = models.CharField(max_length=200)
    project = models.ForeignKey(Project, null=True, blank=True, on_delete=models.CASCADE, related_name="freeze_windows")
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    weekday = models.PositiveSmallIntegerField(null=True, blank=True, help_text="0 = Monday … 6 = Sunday")
    start_time = models.TimeField(null=True, blank=True)
    end_time = models.TimeField(null=True, blank=True)
    timezone = models.CharField(max_length=64, default="UTC")
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(starts_at__isnull=False, ends_at__isnull=False, weekday__isnull=True)
                    & Q(ends_at__gt=models.F("starts_at"))
                )
                | Q(
                    starts_at__isnull=True,
                    ends_at__isnull=True,
                    weekday__isnull=False,
                    weekday__lte=6,
                    start_time__isnull=False,
                    end_time__isnull=False,
                ),
                name="freeze_window_one_off_or_weekly",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_weekly(self) -> bool:
        return self.weekday is not None


class AuditAction(models.TextChoices):
    """What an audit event records, and what its `before` / `after` carry. Notifications key
    their recipients and preferences off these. People are named by username, approver roles
    by name, other rows by id; times are ISO 8601."""

    # target: the project
    PROJECT_CREATED = "project.created", _("Project created")  # after: name, slug
    PROJECT_UPDATED = "project.updated", _("Project changed")  # before/after: the changed fields
    PROJECT_MEMBER_ADDED = "project.member_added", _("Project member added")  # before: role | None; after: user, role
    PROJECT_MEMBER_REMOVED = "project.member_removed", _("Project member removed")  # before: user
    # target: the release
    RELEASE_CREATED = "release.created", _("Release created")  # after: its fields
    RELEASE_UPDATED = "release.updated", _("Release changed")  # before/after: the changed fields
    RELEASE_PEOPLE_CHANGED = "release.people_changed", _("Managers or stakeholders changed")  # managers, stakeholders
    RELEASE_SELF_SIGNOFF_RELAXED = "release.self_signoff_relaxed", _("Separation of duties relaxed")
    RELEASE_SELF_SIGNOFF_RESTORED = "release.self_signoff_restored", _("Separation of duties restored")
    RELEASE_FLAGS_CHANGED = "release.flags_changed", _("Flags changed")  # flags; after: added, removed (items)
    RELEASE_GO_LIVE_CHANGED = "release.go_live_changed", _("Go-live set or moved")  # go_live_at, window_end_at
    RELEASE_TEMPLATE_APPLIED = "release.template_applied", _("Template applied")  # after: template, version, items
    # before: version; after: template, from_version, to_version, added, updated, kept, removed (titles)
    RELEASE_TEMPLATE_UPGRADED = "release.template_upgraded", _("Template upgraded")
    # State changes: before: state; after: state, reason (and freeze_override: window names)
    RELEASE_DRAFT = "release.draft", _("Release back to draft")
    RELEASE_IN_PROGRESS = "release.in_progress", _("Release in progress")
    RELEASE_APPROVED = "release.approved", _("Release approved")
    RELEASE_LIVE = "release.live", _("Release live")
    RELEASE_COMPLETED = "release.completed", _("Release completed")
    RELEASE_CANCELLED = "release.cancelled", _("Release cancelled")
    RELEASE_ROLLED_BACK = "release.rolled_back", _("Release rolled back")
    # target: the item
    ITEM_CREATED = "item.created", _("Item added")  # after: title (and its fields, or why: template, version, flag)
    ITEM_REMOVED = "item.removed", _("Item removed")  # before: title (condition_flag); after: why
    ITEM_UPDATED = "item.updated", _("Item changed")  # before/after: the changed fields
    ITEM_ASSIGNED = "item.assigned", _("Item assigned")  # before/after: assignee (user id or None)
    # before: state; after: state, justification, blocked_reason, evidence_url (or rejected_by)
    ITEM_STATE_CHANGED = "item.state_changed", _("Item status changed")
    ITEM_COMMENTED = "item.commented", _("Comment added")  # after: item, comment, mentions (usernames)
    # target: the sign-off; after: item, approver, signed_by, role, decision, comment, on_behalf_of,
    # self_signoff_relaxed
    SIGNOFF_APPROVED = "signoff.approved", _("Sign-off approved")
    SIGNOFF_REJECTED = "signoff.rejected", _("Sign-off rejected")
    SIGNOFF_REVOKED = "signoff.revoked", _("Sign-off revoked")  # after: revoked, reason, item
    SIGNOFF_STALE = "signoff.stale", _("Approval gone stale")  # after: item, approver, revision
    # target: the phase; before: state; after: state, phase (created: name, order, production)
    PHASE_CREATED = "phase.created", _("Phase added")
    PHASE_IN_PROGRESS = "phase.in_progress", _("Phase started")
    PHASE_DONE = "phase.done", _("Phase done")
    PHASE_ROLLED_BACK = "phase.rolled_back", _("Phase rolled back")
    # target: the delegation; after: delegate, role, starts_at, ends_at (cancelled: cancelled_at)
    DELEGATION_CREATED = "delegation.created", _("Delegation given")
    DELEGATION_CANCELLED = "delegation.cancelled", _("Delegation cancelled")
    # target: the freeze window; before/after: its fields
    FREEZE_WINDOW_CREATED = "freeze_window.created", _("Freeze window added")
    FREEZE_WINDOW_UPDATED = "freeze_window.updated", _("Freeze window changed")
    FREEZE_WINDOW_DELETED = "freeze_window.deleted", _("Freeze window deleted")
    # target: the template version; after: slug, version (and name)
    TEMPLATE_CREATED = "template.created", _("Template created")
    TEMPLATE_UPDATED = "template.updated", _("Template changed")
    TEMPLATE_VERSIONED = "template.versioned", _("Template version added")
    TEMPLATE_IMPORTED = "template.imported", _("Template imported")
    # target: the announcement (its subject); after: kind, audience (name), send_at
    ANNOUNCEMENT_SCHEDULED = "announcement.scheduled", _("Announcement scheduled")
    ANNOUNCEMENT_CANCELLED = "announcement.cancelled", _("Announcement cancelled")  # before/after: status
    ANNOUNCEMENT_SENT = "announcement.sent", _("Announcement sent")  # by the system; after: total, sent, failed
    # target: the report (no text); after: kind, language, email_stakeholders (asked for; a schedule's aren't recorded)
    REPORT_REQUESTED = "report.requested", _("Readiness report requested")

    @classmethod
    def release_state(cls, state: str) -> AuditAction:
        """The event of a release entering `state`."""
        return cls(f"release.{Release.State(state)}")

    @classmethod
    def phase_state(cls, state: str) -> AuditAction:
        """The event of a phase entering `state`."""
        return cls(f"phase.{Phase.State(state)}")


class AuditEvent(models.Model):
    """Append-only: the services write it in the same transaction as the change.

    On PostgreSQL a trigger refuses UPDATE and DELETE (migration 0002).
    """

    release = models.ForeignKey(Release, null=True, blank=True, on_delete=models.PROTECT, related_name="audit_events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=64, choices=AuditAction.choices, db_index=True)
    target_type = models.CharField(max_length=64)
    target_id = models.BigIntegerField(null=True, blank=True)
    target_repr = models.CharField(max_length=300, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["release", "-created_at"], name="audit_release_time")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_name or 'system'} {self.action}"


class GoNoGoRecord(models.Model):
    """What the go/no-go decided, kept as it was when a release was approved: who decided,
    when, the readiness, every sign-off that counted and any freeze override (`snapshot`).
    Written by the approve transition in its transaction; never changed (on PostgreSQL a
    trigger refuses UPDATE and DELETE). Reopening and approving again makes a new one."""

    release = models.ForeignKey(Release, on_delete=models.PROTECT, related_name="go_no_go_records")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_by_name = models.CharField(max_length=150)
    decided_at = models.DateTimeField()
    readiness = models.PositiveSmallIntegerField()
    required_total = models.PositiveIntegerField()
    required_ready = models.PositiveIntegerField()
    reason = models.TextField(blank=True)
    # signoffs: [{item, item_title, approver, signed_by, on_behalf_of, role, decision, comment,
    # decided_at}], freeze_override: {windows: [names], reason} or None, go_live_at, state_before
    snapshot = models.JSONField()

    class Meta:
        ordering = ["-decided_at", "-id"]
        indexes = [models.Index(fields=["release", "-decided_at"], name="gonogo_release_time")]
        verbose_name = _("go/no-go record")

    def __str__(self) -> str:
        return f"{self.release_id} approved {self.decided_at:%Y-%m-%d %H:%M} by {self.decided_by_name}"
