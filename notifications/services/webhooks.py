"""A project's Slack-compatible incoming webhook."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.utils.translation import gettext as _

from config.domain import Invalid
from releases import permissions
from releases.models import Project

from ..models import ProjectWebhook


def project_webhook_set(*, project: Project, actor: User, url: str, active: bool = True) -> ProjectWebhook | None:
    """Point the project's notifications at `url` (http or https), or stop posting them
    (empty url). The project's administrators (and staff) may."""
    permissions.check_project_admin(actor, project)
    url = (url or "").strip()
    if not url:
        ProjectWebhook.objects.filter(project=project).delete()
        return None
    if not url.startswith(("https://", "http://")) or len(url) > 500:
        raise Invalid.field("url", _("A webhook is an http or https address of at most 500 characters."))
    hook, _created = ProjectWebhook.objects.update_or_create(project=project, defaults={"url": url, "active": active})
    return hook
