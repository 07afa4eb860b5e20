"""Opting a release in to a newer version of one of its templates."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext as _

from checklists.models import ITEM_FIELDS, ChecklistTemplate, TemplateItem
from config.domain import Conflict, Invalid
from releases.audit import Changes, audit_record
from releases.models import AuditAction, Release
from releases.permissions import check_release
from releases.readiness import release_reopen_if_not_ready
from releases.state import lock_release

from ..models import ChecklistItem
from .checklist import item_from_template, item_remove, template_items, untouched
from .common import next_order, require_open
from .items import AUDITED_FIELDS
from .status import checklist_refresh

# What a template version gives an item; an upgrade changes these on untouched items.
TEMPLATE_COPIED_FIELDS = tuple("approver_role_id" if f == "approver_role" else f for f in ITEM_FIELDS)


@dataclass
class _Upgrade:
    release: Release
    newest: ChecklistTemplate
    actor: User
    order: int
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    @property
    def why(self) -> dict[str, Any]:
        return {"template": self.newest.slug, "version": self.newest.version}

    def remove_if_untouched(self, item: ChecklistItem) -> None:
        if untouched(item):
            self.removed.append(item.title)
            item_remove(item, actor=self.actor, release=self.release, before={"title": item.title}, after=self.why)
        else:
            self.kept.append(item.title)

    def add(self, titem: TemplateItem) -> None:
        item = item_from_template(self.release, titem, self.newest, self.order)
        item.save()
        self.order += 1
        self.added.append(item.title)
        audit_record(
            action=AuditAction.ITEM_CREATED,
            actor=self.actor,
            target=item,
            release=self.release,
            after={"title": item.title, **self.why},
        )

    def follow(self, item: ChecklistItem, titem: TemplateItem) -> None:
        """The item as the new version gives it, where nobody has touched it; else it keeps
        what it has (and only moves to the new version and section)."""
        fresh = item_from_template(self.release, titem, self.newest, item.order)
        differs = [f for f in TEMPLATE_COPIED_FIELDS if getattr(item, f) != getattr(fresh, f)]
        item.template, item.section = self.newest, fresh.section
        if differs and untouched(item):
            tracked = Changes(item, AUDITED_FIELDS)
            for name in (*differs, "due_at"):
                setattr(item, name, getattr(fresh, name))
            item.save()
            tracked.take()
            if tracked.record(AuditAction.ITEM_UPDATED, actor=self.actor, release=self.release, extra=self.why) is None:
                # Only what the audit doesn't show changed (the due offset, the condition).
                audit_record(
                    action=AuditAction.ITEM_UPDATED,
                    actor=self.actor,
                    target=item,
                    release=self.release,
                    before={},
                    after=self.why,
                )
            self.updated.append(item.title)
            return
        if differs:
            self.kept.append(item.title)
        item.save(update_fields=["template", "section"])

    def record(self, *, from_version: int) -> dict[str, Any]:
        """What the upgrade did, recorded on the release and returned to the caller."""
        summary = {
            "template": self.newest.slug,
            "from_version": from_version,
            "to_version": self.newest.version,
            "added": self.added,
            "updated": self.updated,
            "kept": self.kept,
            "removed": self.removed,
        }
        audit_record(
            action=AuditAction.RELEASE_TEMPLATE_UPGRADED,
            actor=self.actor,
            target=self.release,
            release=self.release,
            before={"version": from_version},
            after=summary,
        )
        return summary


def release_template_upgrade(*, release: Release, slug: str, actor: User) -> dict[str, Any]:
    """Opt in to the newest version of an applied template: new items are added, changed
    items are updated only where nothing was done or signed yet, items the new version
    dropped are removed only when untouched. Completed or signed items are never removed."""
    check_release(actor, release, manage=True)
    with transaction.atomic():
        release = lock_release(release)
        require_open(release)
        if not release.checklist_upgradable:
            raise Conflict(_("A live release's checklist can't be upgraded."), code="release_live")
        use = release.applied_templates.select_related("template").filter(slug=slug).first()
        if use is None:
            raise Invalid.field(
                "template", f"The template {slug!r} is not applied to this release.", code="template_not_applied"
            )
        newest = ChecklistTemplate.objects.select_for_update().filter(slug=slug).order_by("-version").first()
        if newest is None or newest.version <= use.template.version:
            raise Conflict(
                f"The release already uses the newest version (v{use.template.version}) of {slug!r}.",
                code="already_newest",
            )
        upgrade = _Upgrade(release=release, newest=newest, actor=actor, order=next_order(release))
        flags = set(release.flags)
        current = {i.source_key: i for i in release.items.filter(source_slug=slug).select_related("approver_role")}
        new_items = {t.key: t for t in template_items(newest)}
        for key, titem in new_items.items():
            item = current.get(key)
            if titem.condition_flag and titem.condition_flag not in flags:
                # The new version makes it conditional on a flag this release lacks.
                if item is not None:
                    upgrade.remove_if_untouched(item)
            elif item is None:
                upgrade.add(titem)
            else:
                upgrade.follow(item, titem)
        for key, item in current.items():
            if key not in new_items:
                upgrade.remove_if_untouched(item)
        summary = upgrade.record(from_version=use.template.version)
        use.template = newest
        use.save(update_fields=["template"])
        checklist_refresh(release=release)
        release_reopen_if_not_ready(release=release, actor=actor, why=f"Template {slug!r} upgraded")
    return summary
