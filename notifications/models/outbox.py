"""The outbox: every notification is a row written in the same transaction as the change
that caused it, then delivered by a Celery task that claims it (PRODUCT.md, "Notifications
and reports"). The in-app inbox is the same table: its rows are delivered when written."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Event(models.TextChoices):
    """What a person is told about; their preferences are kept per event."""

    ITEM_ASSIGNED = "item_assigned", _("An item is assigned to me")
    ITEM_DUE_SOON = "item_due_soon", _("My item is due in 2 days")
    ITEM_OVERDUE = "item_overdue", _("An item is overdue")
    ITEM_AWAITING_SIGNOFF = "item_awaiting_signoff", _("An item waits for my sign-off")
    SIGNOFF_REMINDER = "signoff_reminder", _("A sign-off has waited more than a day")
    SIGNOFF_APPROVED = "signoff_approved", _("An item is approved")
    SIGNOFF_REJECTED = "signoff_rejected", _("An item is rejected")
    SIGNOFF_REVOKED = "signoff_revoked", _("A sign-off is revoked")
    SIGNOFF_STALE = "signoff_stale", _("An approval has gone stale")
    COMMENT_MENTION = "comment_mention", _("I am mentioned in a comment")
    RELEASE_APPROVED = "release_approved", _("A release is approved")
    RELEASE_GO_LIVE = "release_go_live", _("A go-live is set or moved")
    RELEASE_LIVE = "release_live", _("A release is live")
    RELEASE_COMPLETED = "release_completed", _("A release is completed")
    RELEASE_ROLLED_BACK = "release_rolled_back", _("A release is rolled back")
    RELEASE_CANCELLED = "release_cancelled", _("A release is cancelled")
    REPORT_READY = "report_ready", _("A readiness report is sent")
    DIGEST = "digest", _("The daily digest")


# Told immediately whatever the preference: nobody may miss a go-live change or a rollback.
CRITICAL_EVENTS = frozenset({Event.RELEASE_GO_LIVE, Event.RELEASE_ROLLED_BACK, Event.RELEASE_CANCELLED})
# Told at once when the person chose the digest: what they get is an attachment the digest
# can't carry.
NOT_DIGESTED_EVENTS = frozenset({Event.REPORT_READY})
# What a person can choose about (the digest itself is not a choice of its own).
CHOOSABLE_EVENTS = [event for event in Event if event != Event.DIGEST]


class Preference(models.Model):
    """How a person wants to be told of one event; no row: immediately."""

    class Mode(models.TextChoices):
        IMMEDIATE = "immediate", _("Immediately")
        DIGEST = "digest", _("In a daily digest")
        OFF = "off", _("Not at all")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    event = models.CharField(max_length=40, choices=Event.choices)
    mode = models.CharField(max_length=10, choices=Mode.choices, default=Mode.IMMEDIATE)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "event"], name="preference_once_per_event")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.event}: {self.mode}"


class Notification(models.Model):
    class Channel(models.TextChoices):
        EMAIL = "email", _("E-mail")
        INBOX = "inbox", _("Inbox")
        WEBHOOK = "webhook", _("Webhook")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        IN_DIGEST = "in_digest", _("Waiting for the digest")
        DIGESTED = "digested", _("Sent in a digest")
        DROPPED = "dropped", _("Not sent (unsubscribed or deactivated)")

    # One row per (cause, recipient, channel): writing it twice is a no-op, sending it twice
    # impossible.
    key = models.CharField(max_length=200, unique=True)
    event = models.CharField(max_length=40, choices=Event.choices)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    # An outside address (a release's stakeholder e-mail) when there is no user.
    address = models.CharField(max_length=254, blank=True)
    language = models.CharField(max_length=10, blank=True)
    release = models.ForeignKey(
        "releases.Release", null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    item = models.ForeignKey(
        "approvals.ChecklistItem", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # What the message says, as it was when it happened (names, not ids to look up later).
    context = models.JSONField(default=dict, blank=True)
    actor_name = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_until = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    digest = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="digested")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at"], condition=Q(channel="inbox"), name="notification_inbox"),
            models.Index(
                fields=["user"], condition=Q(channel="inbox", read_at__isnull=True), name="notification_unread"
            ),
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status__in=["pending", "sending"]),
                name="notification_undelivered",
            ),
            models.Index(fields=["user"], condition=Q(status="in_digest"), name="notification_in_digest"),
            models.Index(fields=["release"], condition=Q(status="failed"), name="notification_failed"),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.recipient} ({self.channel}, {self.status})"

    @property
    def recipient(self) -> str:
        return self.address or (self.user.get_username() if self.user_id and self.user else "") or "-"


class ProjectWebhook(models.Model):
    """A Slack-compatible incoming webhook a project's notifications are posted to."""

    project = models.OneToOneField("releases.Project", on_delete=models.CASCADE, related_name="webhook")
    url = models.URLField(max_length=500)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.project}: {self.url}"
