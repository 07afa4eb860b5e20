from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
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
        MEMBER = "member", "Member"
        ADMIN = "admin", "Administrator"

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
        DRAFT = "draft", "Draft"
        IN_PROGRESS = "in_progress", "In progress"
        APPROVED = "approved", "Approved"
        LIVE = "live", "Live"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"
        ROLLED_BACK = "rolled_back", "Rolled back"

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

    class Meta:
        ordering = ["-go_live_at", "-id"]
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
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.version}".strip()

    def _readiness(self, key: str) -> int:
        try:
            counts = self.readiness_counts  # type: ignore[attr-defined]
        except AttributeError:
            raise AttributeError(
                "Readiness is computed in the database: read the release through releases.selectors.with_readiness."
            ) from None
        return int((counts or {}).get(key) or 0)

    @property
    def readiness(self) -> int:
        """Required items done and signed, in percent (0 without required items)."""
        total = self._readiness("total")
        return self._readiness("ready") * 100 // total if total else 0

    @property
    def required_total(self) -> int:
        return self._readiness("total")

    @property
    def required_ready(self) -> int:
        return self._readiness("ready")


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
        PENDING = "pending", "Pending"
        IN_PROGRESS = "in_progress", "In progress"
        DONE = "done", "Done"
        ROLLED_BACK = "rolled_back", "Rolled back"

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


class AuditEvent(models.Model):
    """Append-only: the services write it in the same transaction as the change.

    On PostgreSQL a trigger refuses UPDATE and DELETE (migration 0002).
    """

    release = models.ForeignKey(Release, null=True, blank=True, on_delete=models.PROTECT, related_name="audit_events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=64, db_index=True)
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
