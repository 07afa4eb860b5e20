"""Building releases the way people would, through the services: the demo command, the
test fixtures and the benchmark stand on it, so the audit trail, the sign-off rules and
readiness are what they would be in real use.

A Scenario knows its people by username (`users`; every method taking a person takes a
username or the user), who works an item of each approver role (`assignee_for_role`) and who
signs it (`approvers_for_role`, in order). The site administrator (`admin`) creates projects,
freeze windows and templates; the release manager (`manager`) creates and runs releases,
unless a method is told `by` whom.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth.models import Group, User
from django.utils import timezone

from approvals.models import ChecklistItem, Delegation, SignOff
from approvals.services import delegation_create, item_create, item_update, signoff_grant
from checklists.models import ChecklistTemplate
from checklists.selectors import template_newest
from checklists.services import template_create

from .models import FreezeWindow, Phase, Project, ProjectMembership, Release
from .services import (
    freeze_window_create,
    phase_create,
    phase_transition,
    project_create,
    project_member_add,
    release_create,
    release_transition,
    release_update,
)

UTC = ZoneInfo("UTC")
DEFAULT_PHASES = [("Staging", False), ("Production", True)]
Person = User | str


class Scenario:
    def __init__(
        self,
        *,
        users: dict[str, User] | None = None,
        admin: str = "admin",
        manager: str = "manager",
        password: str | None = None,
        tz: ZoneInfo = UTC,
        assignee_for_role: dict[str, str] | None = None,
        approvers_for_role: dict[str, list[str]] | None = None,
        comments_for_role: dict[str, str] | None = None,
        phases: list[tuple[str, bool]] = DEFAULT_PHASES,
    ) -> None:
        self.now = timezone.now()
        self.users: dict[str, User] = dict(users or {})
        self.admin = admin
        self.manager = manager
        self.password = password
        self.tz = tz
        self.assignee_for_role = assignee_for_role or {}
        self.approvers_for_role = approvers_for_role or {}
        self.comments_for_role = comments_for_role or {}
        self.phases = phases

    def u(self, who: Person) -> User:
        return who if isinstance(who, User) else self.users[who]

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

    # --- people and projects ---------------------------------------------------------------

    @staticmethod
    def role(name: str) -> Group:
        return Group.objects.get_or_create(name=name)[0]

    def person(
        self,
        username: str,
        *,
        roles: Sequence[str] = (),
        password: str | None = None,
        staff: bool = False,
        superuser: bool = False,
        **names: str,
    ) -> User:
        """Someone holding the approver roles, who logs in with the scenario's `password`
        unless told (none: can't log in). Accounts are made here, not by a service: the app
        has no rules for making them."""
        user = User(username=username, email=f"{username}@example.com", is_staff=staff, is_superuser=superuser, **names)
        user.set_password(password if password is not None else self.password)
        user.save()
        if roles:
            user.groups.add(*(self.role(name) for name in roles))
        self.users[username] = user
        return user

    def project(
        self,
        name: str,
        slug: str = "",
        *,
        description: str = "",
        admins: Sequence[Person] = (),
        members: Sequence[Person] = (),
    ) -> Project:
        """Created by the site administrator, who makes `admins` its administrators; the
        first of them adds the members (the site administrator when there is none)."""
        project = project_create(actor=self.u(self.admin), name=name, slug=slug, description=description)
        for who in admins:
            self.join(project, who, role=ProjectMembership.Role.ADMIN)
        for who in members:
            self.join(project, who, by=admins[0] if admins else "")
        return project

    def join(
        self, project: Project, who: Person, *, role: str = ProjectMembership.Role.MEMBER, by: Person = ""
    ) -> User:
        """`who` becomes a member of the project (added by `by`, else the site administrator)."""
        user = self.u(who)
        project_member_add(project=project, actor=self.u(by or self.admin), user=user, role=role)
        return user

    def freeze(self, name: str, *, project: Project | None = None, by: Person = "", **when: Any) -> FreezeWindow:
        """A freeze window (`when`: starts_at/ends_at, or weekday, start_time, end_time, timezone_name)."""
        return freeze_window_create(actor=self.u(by or self.admin), name=name, project=project, **when)

    def delegate(
        self, who: Person, to: Person, role: str, *, starts_at: dt.datetime, ends_at: dt.datetime
    ) -> Delegation:
        return delegation_create(
            actor=self.u(who), delegate=self.u(to), role=self.role(role), starts_at=starts_at, ends_at=ends_at
        )

    # --- templates and releases ------------------------------------------------------------

    @staticmethod
    def template(slug: str) -> ChecklistTemplate:
        """The newest version, as anyone creating a release gets it."""
        template = template_newest(slug)
        if template is None:
            raise LookupError(
                f"The template {slug!r} is missing; the built-in ones come with `python manage.py migrate`."
            )
        return template

    def custom_template(self, data: dict[str, Any], *, by: Person = "") -> ChecklistTemplate:
        """A template of one's own, from its data in the exchange format."""
        return template_create(actor=self.u(by or self.admin), data=data)

    @staticmethod
    def item(release: Release, key: str, slug: str = "") -> ChecklistItem:
        items = ChecklistItem.objects.select_related("release", "approver_role").filter(release=release, source_key=key)
        return items.get(source_slug=slug) if slug else items.get()

    @staticmethod
    def evidence(release: Release, item: ChecklistItem) -> str:
        return f"https://ci.example.com/{release.project.slug}/releases/{release.version}/{item.source_key}"

    def create(
        self,
        project: Project,
        name: str,
        version: str = "",
        templates: Sequence[str | ChecklistTemplate] = (),
        *,
        by: Person = "",
        **fields: Any,
    ) -> Release:
        """A draft release; `templates`: slugs or template versions."""
        return release_create(
            actor=self.u(by or self.manager),
            project=project,
            name=name,
            version=version,
            templates=[t if isinstance(t, ChecklistTemplate) else self.template(t) for t in templates],
            **fields,
        )

    def start(self, release: Release, *, by: Person = "") -> Release:
        return release_transition(release=release, actor=self.u(by or self.manager), to=Release.State.IN_PROGRESS)

    def update(self, release: Release, *, by: Person = "", **changes: Any) -> Release:
        return release_update(release=release, actor=self.u(by or self.manager), **changes)

    def phase(self, release: Release, name: str, *, production: bool = True, by: Person = "") -> Phase:
        return phase_create(release=release, actor=self.u(by or self.manager), name=name, production=production)

    # --- the checklist ---------------------------------------------------------------------

    def add_item(
        self,
        release: Release,
        title: str,
        *,
        role: str = "",
        assignee: Person | None = None,
        by: Person = "",
        **fields: Any,
    ) -> ChecklistItem:
        """An ad-hoc item (`fields`: those item_create takes), for the approver role named."""
        return item_create(
            release=release,
            actor=self.u(by or self.manager),
            title=title,
            approver_role=self.role(role) if role else None,
            assignee=self.u(assignee) if assignee else None,
            **fields,
        )

    def assign_all(self, release: Release) -> None:
        """Each item to the person who works its approver role's items."""
        manager = self.u(self.manager)
        for item in release.items.select_related("approver_role", "release").order_by("order"):
            assert item.approver_role is not None
            item_update(item=item, actor=manager, assignee=self.u(self.assignee_for_role[item.approver_role.name]))

    def work(self, release: Release, key: str, *, slug: str = "", **how: Any) -> ChecklistItem:
        """The item of the release's checklist with that key, worked (see `work_item`)."""
        return self.work_item(self.item(release, key, slug), **how)

    def work_item(
        self,
        item: ChecklistItem,
        *,
        by: Person = "",
        state: str = "done",
        note: str = "",
        evidence_url: str = "",
        justification: str = "",
        blocked_reason: str = "",
    ) -> ChecklistItem:
        """The assignee (or `by`) moves the item to `state` (done with evidence, not applicable
        with a justification, blocked with a reason)."""
        changes: dict[str, Any] = {"state": state}
        if state == ChecklistItem.State.DONE:
            changes["evidence_url"] = evidence_url or self.evidence(item.release, item)
        for name, value in (("justification", justification), ("blocked_reason", blocked_reason), ("note", note)):
            if value:
                changes[name] = value
        actor = self.u(by) if by else item.assignee
        assert actor is not None, "only assigned items are worked, unless someone is named"
        return item_update(item=item, actor=actor, **changes)

    def signoff(
        self,
        item: ChecklistItem,
        by: Person,
        *,
        decision: str = "approve",
        comment: str = "",
        on_behalf_of: Person = "",
    ) -> SignOff:
        """One sign-off, by the person named (for `on_behalf_of`, as their delegate)."""
        return signoff_grant(
            item=item,
            actor=self.u(by),
            decision=decision,
            comment=comment,
            on_behalf_of=self.u(on_behalf_of) if on_behalf_of else None,
        )

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
            self.signoff(
                item,
                name,
                decision=decision,
                comment=comment or self.comments_for_role.get(role, ""),
                on_behalf_of=on_behalf_of,
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
        phases = [self.phase(release, name, production=prod) for name, prod in self.phases]
        for index, phase in enumerate(phases):
            if index > phases_done:
                break
            phase_transition(phase=phase, actor=manager, to=Phase.State.IN_PROGRESS)
            if index < phases_done:
                phase_transition(phase=phase, actor=manager, to=Phase.State.DONE)
        self.update(release, go_live_at=went_live_at, window_end_at=went_live_at + dt.timedelta(hours=3))
        return phases
