"""Helpers for the approvals tests: reading the audit trail and a release's readiness."""

import pytest

from releases.models import AuditEvent
from releases.selectors import release_get


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """The factories set a password on every user; the default hasher costs ~0.2 s each."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def audit_actions():
    """The audit actions recorded for a release, oldest first (optionally for one target)."""

    def actions(release, *, target=None):
        events = AuditEvent.objects.filter(release=release).order_by("id")
        if target is not None:
            events = events.filter(target_type=target._meta.label_lower, target_id=target.pk)
        return list(events.values_list("action", flat=True))

    return actions


@pytest.fixture
def readiness(manager):
    """The release's readiness (0-100) as its manager sees it in lists."""

    def read(release):
        return release_get(user=manager, pk=release.pk).readiness

    return read
