"""What every write to a checklist shares: locking, the closed-release check, due dates."""

from __future__ import annotations

import datetime as dt

from django.db.models import Max
from django.utils.translation import gettext as _

from config.domain import NotFound
from releases.models import Release
from releases.state import lock_release, require_not_closed

from ..models import ChecklistItem


def require_open(release: Release) -> None:
    state = release.get_state_display().lower()
    message = _("The release is %(state)s; its checklist can't change.") % {"state": state}
    require_not_closed(release, message=message, state_failure=True)


def lock_item(item: ChecklistItem) -> tuple[Release, ChecklistItem]:
    """The release row, then the item row, locked (in that order, as everywhere)."""
    release = lock_release(item.release)
    locked = ChecklistItem.objects.select_for_update().filter(pk=item.pk).first()
    if locked is None:  # removed (flag unset, template upgrade) while we waited for the lock
        raise NotFound(_("Item not found."), code="not_found")
    locked.release = release
    return release, locked


def due_at(release: Release, offset: int | None) -> dt.datetime | None:
    if release.go_live_at is None or offset is None:
        return None
    return release.go_live_at + dt.timedelta(days=offset)


def next_order(release: Release) -> int:
    return (release.items.aggregate(m=Max("order"))["m"] or 0) + 1
