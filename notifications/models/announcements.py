"""Announcements to end users: audiences (lists of e-mail addresses, each a row, so that
10,000 of them are cheap to store, diff and unsubscribe), announcements of a release to an
audience, and one delivery row per address and announcement, so that each address gets it
once: the rows are claimed batch by batch with a lease, and marked sent one by one as the
SMTP server accepts them (notifications/services/announcements.py)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _


class Audience(models.Model):
    """A list of end users' addresses, of a project (managed by its administrators and its
    releases' managers) or global (project null: managed by staff)."""

    name = models.CharField(_("name"), max_length=200)
    project = models.ForeignKey(
        "releases.Project",
        verbose_name=_("project"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="audiences",
    )
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES, default="en")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class AudienceMember(models.Model):
    """An address of an audience, lower-cased; unsubscribed ones stay (so that a re-import
    does not subscribe them again) but are not sent to."""

    audience = models.ForeignKey(Audience, on_delete=models.CASCADE, related_name="members")
    email = models.CharField(max_length=254)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["audience", "email"], name="audience_member_unique"),
            models.CheckConstraint(condition=Q(email=Lower("email")), name="audience_member_lower"),
        ]

    def __str__(self) -> str:
        return self.email


class Announcement(models.Model):
    class Kind(models.TextChoices):
        DOWNTIME = "downtime", _("Planned downtime")
        RELEASED = "released", _("Released")

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        CANCELLED = "cancelled", _("Cancelled")

    release = models.ForeignKey("releases.Release", on_delete=models.CASCADE, related_name="announcements")
    # Kept when the audience is deleted (the record of what was sent); a scheduled or sending
    # announcement keeps its audience from being deleted (audience_delete).
    audience = models.ForeignKey(
        Audience, null=True, blank=True, on_delete=models.SET_NULL, related_name="announcements"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # As typed, with the placeholders; rendered when sent (a go-live moved meanwhile is the new one).
    subject = models.CharField(max_length=200)
    body = models.TextField()
    language = models.CharField(max_length=10, choices=settings.LANGUAGES, default="en")
    send_at = models.DateTimeField(db_index=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.SCHEDULED, db_index=True)
    # Counted from the delivery rows (after each batch), for lists and the progress bar.
    total = models.PositiveIntegerField(default=0)
    sent = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-send_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(sent__lte=models.F("total")), name="announcement_sent_le_total"),
        ]

    def __str__(self) -> str:
        return self.subject


class AnnouncementDelivery(models.Model):
    """One address of an announcement. `pending` → `claimed` (by one batch task, until
    `claimed_until`; a claim whose lease has run out is taken again) → `sent` or `failed`."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        CLAIMED = "claimed", _("Being sent")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    announcement = models.ForeignKey(Announcement, on_delete=models.CASCADE, related_name="deliveries")
    email = models.CharField(max_length=254)
    batch = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    claim = models.CharField(max_length=32, blank=True, default="")
    claimed_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["announcement", "email"], name="announcement_delivery_unique"),
        ]
        indexes = [
            models.Index(fields=["announcement", "batch", "status"], name="announcement_delivery_batch"),
        ]

    def __str__(self) -> str:
        return self.email
