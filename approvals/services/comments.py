"""Comments on items: anyone who sees the release may comment; `@username` mentions of
people who see it are kept for the notifications."""

from __future__ import annotations

import re

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import transaction

from config.domain import clean_text
from releases import permissions
from releases.audit import audit_record
from releases.models import AuditAction

from ..models import ChecklistItem, Comment

MENTION = re.compile(r"(?<![\w@.])@([\w.@+-]{1,150})")


def _mentioned(body: str, item: ChecklistItem) -> list[User]:
    """The people named as @username who can see the item's release (others are not told)."""
    names = {name.rstrip(".") for name in MENTION.findall(body)}
    if not names:
        return []
    people = get_user_model().objects.filter(username__in=names, is_active=True).order_by("username")
    return [person for person in people if permissions.can_view_release(person, item.release)]


def comment_create(*, item: ChecklistItem, actor: User, body: str) -> Comment:
    permissions.check_release(actor, item.release)
    body = clean_text("body", body, max_length=10000, required=True)
    mentions = _mentioned(body, item)
    with transaction.atomic():
        comment = Comment.objects.create(item=item, author=actor, body=body)
        comment.mentions.set(mentions)
        audit_record(
            action=AuditAction.ITEM_COMMENTED,
            actor=actor,
            target=item,
            release=item.release,
            after={"item": item.pk, "comment": body, "mentions": [p.get_username() for p in mentions]},
        )
    return comment
