"""Building releases the way people would, through the services: the demo command, the
test fixtures and the benchmark stand on it, so the audit trail, the sign-off rules and
readiness are what they would be in real use.

A Scenario knows its people by username (`users`), who works an item of each approver role
(`assignee_for_role`) and who signs it (`approvers_for_role`, in order).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth.models import User
from django.utils import timezone

from approvals.models import ChecklistItem
from approvals.services import item_update, signoff_grant
from checklists.models import ChecklistTemplate
from checklists.selectors import template_builtin

from .models import Phase, Project, Release
from .services import phase_create, phase_transition, release_create, release_update

UTC = ZoneInfo("UTC")
DEFAULT_PHASES = [("Staging", False), ("Production", True)]


class Scenario:
    def __init__(
        self,
        *,
        users: dict[str, User] | None = None,
        manager: str = "manager",
        tz: ZoneInfo = UTC,
        assignee_for_role: dict[str, str] | None = None,
        approvers_for_role: dict[str, list[str]] | None = None,
        comments_for_role: dict[str, str] | None = None,
        phases: list[tuple[str, bool]] = DEFAULT_PHASES,
    ) -> None:
        self.now = timezone.now()
        self.users: dict[str, User] = dict(users or {})
        self.manager = manager
        self.tz = tz
        self.assignee_for_role = assignee_for_role or {}
        self.approvers_for_role = approvers_for_role or {}
        self.comments_for_role = comments_for_role or {}
        self.phases = phases

    def u(self, username: str) -> User:
        return self.users[username]

    def future(self, days: int, hour: int) -> dt.datetime:
        """`days` from now at `hour` local time, moved off Fridays and weekends."""
        day = (self.now.astimezone(self.tz) + dt.timedelta(days=days)).date()
        while day.weekday() >= 4:
            day += dt.timedelta(days=1)
        return dt.datetime.combine(day, dt.time(hour), tzinfo=self.tz)

    def past(self, days: int, hour: int) -> dt.datetime:
        day = (self.now.astimezone(self.tz) - dt.timedelta(days=days)).date()
        while day.weekday() >= 4:
            day -= dt.timedelta(days=1)
        return dt.datetime.combine(day, dt.time(hour), tzinfo=self.tz)

    @staticmethod
    def template(slug: str) -> ChecklistTemplate:
        template = template_builtin(slug)
        if template is None:
            raise LookupError(f"The built-in template {slug!r} is missing; run `python manage.py migrate` first.")
        return template

    @staticmethod
    def item(release: Release, key: str, slug: str = "") -> ChecklistItem:
        items = ChecklistItem.objects.select_related("release", "approver_role").filter(release=release, source_key=key)
        return items.get(source_slug=slug) if slug else items.get()

    @staticmethod
    def evidence(release: Release, item: ChecklistItem) -> str:
        return f"https://ci.example.com/{release.project.slug}/releases/{release.version}/{item.source_key}"

    def create(self, project: Project, name: str, version: str, templates: list[str], **fields: Any) -> Release:
        return release_create(
            actor=self.u(self.manager),
            project=project,
            name=name,
            version=version,
            templates=[self.template(slug) for slug in templates],
            **fields,
        )

    def assign_all(self, release: Release) -> None:
        """Each item to the person who works its approver role's items."""
        manager = self.u(self.manager)
        for item in release.items.select_related("approver_role", "release").order_by("order"):
            assert item.approver_role is not None
            item_update(item=item, actor=manager, assignee=self.u(self.assignee_for_role[item.approver_role.name]))

    def work(
        self,
        release: Release,
        key: str,
        *,
        slug: str = "",
        state: str = "done",
        note: str = "",
        evidence_url: str = "",
        justification: str = "",
        blocked_reason: str = "",
    ) -> ChecklistItem:
        """The assignee moves the item to `state` (done with evidence, not applicable with a
        justification, blocked with a reason)."""
        item = self.item(release, key, slug)
        changes: dict[str, Any] = {"state": state}
        if state == ChecklistItem.State.DONE:
            changes["evidence_url"] = evidence_url or self.evidence(release, item)
        for name, value in (("justification", justification), ("blocked_reason", blocked_reason), ("note", note)):
            if value:
                changes[name] = value
        assert item.assignee is not None, "only assigned items are worked"
        return item_update(item=item, actor=item.assignee, **changes)

    def sign(
        self,
        item: ChecklistItem,
        *,
        count: int | None = None,
        approvers: list[str] | None = None,
        decision: str = "approve",
        comment: str = "",
        on_behalf_of: str = "",
    ) -> None:
        """Sign-offs by the role's approvers, in order (its quorum unless `count` says)."""
        assert item.approver_role is not None
        role = item.approver_role.name
        names = approvers or self.approvers_for_role[role][: item.required_signoffs if count is None else count]
        for name in names:
            signoff_grant(
                item=item,
                actor=self.u(name),
                decision=decision,
                comment=comment or self.comments_for_role.get(role, ""),
                on_behalf_of=self.u(on_behalf_of) if on_behalf_of else None,
            )

    def finish(self, release: Release, key: str, *, slug: str = "", note: str = "", **signing: Any) -> ChecklistItem:
        item = self.work(release, key, slug=slug, note=note)
        self.sign(item, **signing)
        return item

    def finish_all(
        self, release: Release, *, not_applicable: dict[str, str] | None = None, notes: dict[str, str] | None = None
    ) -> None:
        """Every item done (or not applicable) and signed with its quorum."""
        not_applicable, notes = not_applicable or {}, notes or {}
        for item in release.items.select_related("approver_role").order_by("order"):
            if item.state in ChecklistItem.FINISHED_STATES:
                continue
            key, slug = item.source_key, item.source_slug
            if key in not_applicable:
                item = self.work(
                    release,
                    key,
                    slug=slug,
                    state="not_applicable",
                    justification=not_applicable[key],
                    note=notes.get(key, ""),
                )
                if not item.required:
                    continue
            else:
                item = self.work(release, key, slug=slug, note=notes.get(key, ""))
            self.sign(item)

    def go_live(self, release: Release, *, phases_done: int, went_live_at: dt.datetime) -> list[Phase]:
        """The phases; the first `phases_done` finish, the next one is running. The go-live is
        then set to when it happened (allowed once a release is live)."""
        manager = self.u(self.manager)
        phases = [
            phase_create(release=release, actor=manager, name=name, production=prod) for name, prod in self.phases
        ]
        for index, phase in enumerate(phases):
            if index > phases_done:
                break
            phase_transition(phase=phase, actor=manager, to=Phase.State.IN_PROGRESS)
            if index < phases_done:
                phase_transition(phase=phase, actor=manager, to=Phase.State.DONE)
        release_update(
            release=release, actor=manager, go_live_at=went_live_at, window_end_at=went_live_at + dt.timedelta(hours=3)
        )
        return phases
