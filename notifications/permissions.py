"""Who may reach what of the notifications app. Built on the releases' visibility rules
(releases.permissions, the only module that talks to django-guardian)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from config.domain import NotFound
from releases.permissions import AnyUser, releases_visible_to

from .models import Report


def access_report(user: AnyUser | None, pk: Any) -> Report:
    """The report `pk`, if the user may see its release (NotFound otherwise), with its
    release and the requester's name."""
    found = (
        Report.objects.filter(pk=pk, release__in=releases_visible_to(user).values("pk"))
        .select_related("release", "requested_by")
        .first()
    )
    if found is None:
        raise NotFound(_("Not found."), code="not_found")
    return found
