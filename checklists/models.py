"""Checklist templates: versioned, with sections and items.

A template version that a release uses is never changed again: editing it creates the
next version (see services.template_update). Items keep a stable `key` across versions,
which is how a release upgrading to a newer version matches its items.
"""

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

# The two halves of one rule for template and release items alike: an item either needs
# sign-offs from a role or nobody signs it.
SIGNOFFS_NEED_ROLE = "An item that needs sign-offs needs an approver role."
ROLE_NEEDS_SIGNOFFS = (
    "An item with an approver role needs at least one sign-off; clear the role for an item nobody signs."
)


class Category(models.TextChoices):
    CODE_REVIEW = "code_review", _("Code review")
    FUNCTIONAL_TESTING = "functional_testing", _("Functional testing")
    PERFORMANCE = "performance", _("Performance")
    SECURITY = "security", _("Security")
    DATA_BACKUP = "data_backup", _("Data & backup")
    MIGRATION = "migration", _("Migration")
    ROLLBACK = "rollback", _("Rollback")
    INFRASTRUCTURE = "infrastructure", _("Infrastructure & configuration")
    DEPLOYMENT = "deployment", _("Deployment")
    DEPENDENCIES = "dependencies", _("Dependencies")
    ACCESS_CONTROL = "access_control", _("Access control")
    MONITORING = "monitoring", _("Monitoring & alerting")
    DOCUMENTATION = "documentation", _("Documentation")
    TRAINING = "training", _("Training")
    LEGAL_COMPLIANCE = "legal_compliance", _("Legal & compliance")
    COMMUNICATION = "communication", _("Announcements & communication")
    SUPPORT = "support", _("Support")
    GO_LIVE = "go_live", _("Go-live")
    OTHER = "other", _("Other")


class Flag(models.TextChoices):
    """Well-known release flags that switch conditional items on (any slug may be used)."""

    DATABASE_MIGRATION = "database_migration", _("Database migration")
    DOWNTIME = "downtime", _("Downtime")
    CUSTOMER_FACING = "customer_facing", _("Customer facing")
    SECURITY_SENSITIVE = "security_sensitive", _("Security sensitive")


class ChecklistTemplate(models.Model):
    slug = models.SlugField(max_length=100)
    version = models.PositiveIntegerField(default=1)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    language = models.CharField(max_length=10, default="en")
    is_builtin = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["slug", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["slug", "version"], name="template_slug_version_unique"),
            models.CheckConstraint(condition=Q(version__gte=1), name="template_version_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.name} (v{self.version})"


class TemplateSection(models.Model):
    template = models.ForeignKey(ChecklistTemplate, on_delete=models.CASCADE, related_name="sections")
    title = models.CharField(max_length=200)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.title


# What a template item says about the checklist item it becomes (the exchange format's item
# fields besides its key): the editor's fields, what a diff compares, what an upgrade copies.
ITEM_FIELDS = (
    "title",
    "guidance",
    "category",
    "required",
    "approver_role",
    "required_signoffs",
    "evidence_required",
    "due_offset_days",
    "condition_flag",
)


class TemplateItem(models.Model):
    template = models.ForeignKey(ChecklistTemplate, on_delete=models.CASCADE, related_name="items")
    section = models.ForeignKey(TemplateSection, on_delete=models.CASCADE, related_name="items")
    key = models.SlugField(max_length=100)
    order = models.PositiveIntegerField(default=0)
    title = models.CharField(max_length=300)
    guidance = models.TextField(blank=True)
    category = models.CharField(max_length=32, choices=Category.choices)
    required = models.BooleanField(default=True)
    approver_role = models.ForeignKey(Group, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    required_signoffs = models.PositiveSmallIntegerField(default=1)
    evidence_required = models.BooleanField(default=False)
    due_offset_days = models.IntegerField(default=0)
    condition_flag = models.CharField(max_length=50, blank=True)

    class Meta:
        ordering = ["section__order", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["template", "key"], name="template_item_key_unique"),
            models.CheckConstraint(
                condition=Q(approver_role__isnull=False) | Q(required_signoffs=0),
                name="template_item_role_for_signoffs",
            ),
        ]

    def __str__(self) -> str:
        return self.title
