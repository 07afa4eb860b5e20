"""`python manage.py demo`: demo users (one per role, passwords printed) and two projects
with releases in every state, made from the built-in templates.

Everything past the users, their roles and the first project administrator goes through the
services, exactly as a person using the app would do it, so the audit trail, the sign-off
rules and readiness are what they would be in real use. Running it again changes nothing
and prints the logins again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from approvals.services import item_update
from config.domain import DomainError
from notifications.services.audiences import audience_create
from releases.models import Phase, Project, Release
from releases.scenario import Scenario
from releases.selectors import release_list
from releases.services import (
    phase_transition,
    release_transition,
)

PASSWORD_SUFFIX = "-demo"
TZ = ZoneInfo("Europe/Prague")


@dataclass(frozen=True)
class DemoUser:
    username: str
    first_name: str
    last_name: str
    who: str
    roles: tuple[str, ...] = ()
    superuser: bool = False

    @property
    def password(self) -> str:
        return f"{self.username}{PASSWORD_SUFFIX}"


USERS = (
    DemoUser("admin", "Adam", "Král", "administrator: superuser, may override freeze windows", superuser=True),
    DemoUser("manager", "Markéta", "Novotná", "release manager, administrator of both projects"),
    DemoUser("dev", "David", "Svoboda", "contributor: works the items assigned to him"),
    DemoUser("eng", "Eva", "Dvořáková", "approver: Engineering", ("Engineering",)),
    DemoUser("eng2", "Ondřej", "Černý", "approver: Engineering (second)", ("Engineering",)),
    DemoUser("qa", "Kateřina", "Veselá", "approver: QA", ("QA",)),
    DemoUser("security", "Tomáš", "Procházka", "approver: Security (delegates to security2)", ("Security",)),
    DemoUser("security2", "Lucie", "Kučerová", "approver: Security (second)", ("Security",)),
    DemoUser("ops", "Petr", "Marek", "approver: Operations", ("Operations",)),
    DemoUser("ops2", "Jana", "Pokorná", "approver: Operations (second)", ("Operations",)),
    DemoUser("data", "Martin", "Horák", "approver: Data", ("Data",)),
    DemoUser("data2", "Veronika", "Němcová", "approver: Data (second)", ("Data",)),
    DemoUser("legal", "Lenka", "Pospíšilová", "approver: Legal", ("Legal",)),
    DemoUser("product", "Jakub", "Fiala", "approver: Product", ("Product",)),
    DemoUser("product2", "Tereza", "Sedláčková", "approver: Product (second)", ("Product",)),
    DemoUser("support", "Michal", "Zeman", "approver: Support", ("Support",)),
    DemoUser("stakeholder", "Hana", "Kolářová", "stakeholder: follows Billing 3.1 and Billing 3.0"),
)
# Everyone but the admin and the stakeholder works on both projects.
TEAM = [u.username for u in USERS if u.username not in ("admin", "manager", "stakeholder")]

# Who works an item, by the item's approver role: never someone holding that role, so that
# separation of duties leaves enough approvers for the quorum.
ASSIGNEE_FOR_ROLE = {
    "Engineering": "dev",
    "QA": "dev",
    "Security": "eng",
    "Data": "eng",
    "Operations": "eng2",
    "Legal": "product",
    "Product": "manager",
    "Support": "manager",
}
# Who signs an item off, in order; an item needing two sign-offs takes the first two.
APPROVERS = {
    "Engineering": ["eng", "eng2"],
    "QA": ["qa"],
    "Security": ["security", "security2"],
    "Data": ["data", "data2"],
    "Operations": ["ops", "ops2"],
    "Legal": ["legal"],
    "Product": ["product", "product2"],
    "Support": ["support"],
}
APPROVAL_COMMENTS = {
    "Engineering": "Reviewed, fine by me.",
    "QA": "Test report checked; no open P1/P2 defects.",
    "Security": "Scan results reviewed; no high or critical findings.",
    "Data": "Backup restore verified on staging.",
    "Operations": "Runbook and dashboards checked.",
    "Legal": "",
    "Product": "OK from product.",
    "Support": "Support team briefed.",
}
PHASES = [("Staging", False), ("Canary 5 %", True), ("25 %", True), ("100 %", True)]


class Command(BaseCommand):
    help = "Load demo users (one per role, passwords printed) and releases in every state."

    def handle(self, *args: Any, **options: Any) -> None:
        User = get_user_model()
        names = [u.username for u in USERS]
        existing = set(User.objects.filter(username__in=names).values_list("username", flat=True))
        if existing == set(names):
            self.stdout.write("The demo users exist already (the demo was loaded before); nothing changed.")
            self.print_logins()
            return
        if existing:
            raise CommandError(
                f"The demo needs the usernames {', '.join(names)}; these exist already: "
                f"{', '.join(sorted(existing))}. Load the demo into an empty database."
            )
        try:
            with transaction.atomic():
                releases = DemoLoader().load()
        except DomainError as exc:  # a bug in the demo script, or a rule it does not know yet
            raise CommandError(f"Loading the demo failed: {exc} [{exc.code}]") from exc
        except LookupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS("Loaded the demo: projects Billing and Mobile app, with releases:"))
        width = max(len(str(release)) for release in releases)
        for release in releases:
            readiness = release.readiness
            self.stdout.write(f"  {release!s:<{width}}  {release.state:<12} readiness {readiness}%")
        self.print_logins()

    def print_logins(self) -> None:
        self.stdout.write("")
        self.stdout.write(f'Demo logins (each password is the username followed by "{PASSWORD_SUFFIX}"):')
        width = max(len(u.username) for u in USERS)
        pw_width = max(len(u.password) for u in USERS)
        self.stdout.write(f"  {'username':<{width}}  {'password':<{pw_width}}  who")
        self.stdout.write(f"  {'-' * width}  {'-' * pw_width}  {'-' * max(len(u.who) for u in USERS)}")
        for user in USERS:
            self.stdout.write(f"  {user.username:<{width}}  {user.password:<{pw_width}}  {user.who}")


class DemoLoader(Scenario):
    def __init__(self) -> None:
        super().__init__(
            tz=TZ,
            assignee_for_role=ASSIGNEE_FOR_ROLE,
            approvers_for_role=APPROVERS,
            comments_for_role=APPROVAL_COMMENTS,
            phases=PHASES,
        )

    # --- the demo ------------------------------------------------------------------------

    def load(self) -> list[Release]:
        self.create_users()
        admin = self.u("admin")
        billing = self.project(
            "Billing",
            "billing",
            description="Invoicing, payments and the customer billing portal.",
            admins=["manager"],
            members=TEAM,
        )
        mobile = self.project(
            "Mobile app",
            "mobile-app",
            description="The iOS and Android customer app.",
            admins=["manager"],
            members=TEAM,
        )
        self.freeze(
            "No Friday afternoon go-lives",
            weekday=4,
            start_time=dt.time(12),
            end_time=dt.time(0),
            timezone_name="Europe/Prague",
            reason="Nobody is around over the weekend to fix what a Friday release breaks.",
        )
        # Security is away for two weeks; security2 signs on his behalf.
        self.delegate("security", "security2", "Security", starts_at=self.now, ends_at=self.now + dt.timedelta(days=14))
        # End users to announce downtime to (a release's Announce), one audience in each language.
        audience_create(actor=self.u("manager"), name="Billing customers", project=billing, language="en",
                        addresses=["alice@example.com", "bob@example.com", "carol@example.org"])  # fmt: skip
        audience_create(actor=self.u("manager"), name="Uživatelé mobilní aplikace", project=mobile, language="cs",
                        addresses=["jana@example.cz", "petr@example.cz"])  # fmt: skip
        releases = [
            self.billing_draft(billing),
            self.billing_in_progress(billing),
            self.billing_approved(billing),
            self.billing_completed(billing),
            self.mobile_live(mobile),
            self.mobile_rolled_back(mobile),
            self.mobile_cancelled(mobile),
        ]
        annotated = {r.pk: r for r in release_list(user=admin).filter(pk__in=[r.pk for r in releases])}
        return [annotated[r.pk] for r in releases]

    def create_users(self) -> None:
        override = Permission.objects.get(content_type__app_label="releases", codename="override_freeze")
        for spec in USERS:
            user = self.person(
                spec.username,
                roles=spec.roles,
                password=spec.password,
                staff=spec.superuser,
                superuser=spec.superuser,
                first_name=spec.first_name,
                last_name=spec.last_name,
            )
            if spec.superuser:
                user.user_permissions.add(override)

    def billing_draft(self, project: Project) -> Release:
        # Planned on a Friday afternoon: the release page shows the freeze window it hits.
        friday = self.future(35, 10)
        friday += dt.timedelta(days=(4 - friday.weekday()) % 7, hours=5)
        release = self.create(
            project,
            "Billing",
            "3.2",
            ["release-readiness"],
            flags=["customer_facing"],
            go_live_at=friday,
            description="New invoice layout and SEPA Instant payments.",
        )
        manager = self.u("manager")
        for key, who in (("code-review", "dev"), ("security-testing", "eng"), ("legal-compliance", "product")):
            item_update(item=self.item(release, key), actor=manager, assignee=self.u(who))
        return release

    def billing_in_progress(self, project: Project) -> Release:
        rr, dp = "release-readiness", "deployment-plan"
        release = self.create(
            project,
            "Billing",
            "3.1",
            [rr, dp],
            flags=["database_migration", "customer_facing"],
            go_live_at=self.future(9, 10),
            window_end_at=self.future(9, 12),
            git_ref="v3.1.0-rc.2",
            description="Partial refunds and a faster invoice search (new index on invoices).",
            rollback_plan="Redeploy v3.0.1 (tag v3.0.1) with `deploy billing v3.0.1`; the migration is "
            "backward compatible, so the schema stays. Restore from the pre-release backup "
            "only if data is damaged.",
            stakeholders=[self.u("stakeholder")],
            stakeholder_emails=["finance-leads@example.com"],
        )
        self.start(release)
        self.assign_all(release)
        self.billing_in_progress_work(release, rr, dp)
        return release

    def billing_in_progress_work(self, release: Release, rr: str, dp: str) -> None:
        """Every kind of item a release in progress has: signed, half signed, signed by a
        delegate, stale, rejected, blocked, under way, not applicable, open."""
        # Done and signed.
        self.finish(release, "code-review", note="All 42 merge requests reviewed; two follow-ups in BIL-812.")
        self.finish(release, "performance-testing", note="p95 of invoice search down from 840 ms to 95 ms.")
        self.finish(release, "database-backup")
        self.finish(release, "dependency-check")
        self.finish(release, "announcement-plan")
        self.finish(release, "rollback-plan", slug=rr)
        self.finish(release, "staging-environment", slug=dp)
        self.finish(release, "ci-cd", slug=dp)
        self.finish(release, "deployment-strategy", slug=dp, note="Canary 5 %, then 25 % and 100 % after 1 h each.")
        # Waiting for the second of two sign-offs.
        self.finish(release, "security-testing", count=1, note="ZAP scan and pen-test retest attached.")
        self.finish(release, "rollback-plan", slug=dp, count=1)
        # Signed by a delegate: security is away, security2 signs on his behalf.
        item = self.work(release, "user-access-control", note="Refund permission limited to the finance-admin role.")
        self.sign(item, approvers=["security2"], on_behalf_of="security")
        # Stale: approved, then the evidence changed (a new test run), so the approval no longer counts.
        item = self.finish(release, "functionality-testing")
        item_update(
            item=self.item(release, "functionality-testing"),
            actor=self.u("dev"),
            evidence_url="https://ci.example.com/billing/releases/3.1/functionality-testing-rerun",
            note="Re-ran after the fix for BIL-830.",
        )
        # Rejected: back to in progress for rework.
        item = self.work(release, "legal-compliance", evidence_url="https://wiki.example.com/legal/billing-3.1-dpa")
        self.sign(
            item,
            decision="reject",
            comment="The DPA with the new refund provider is not countersigned yet; attach the signed copy.",
        )
        # Blocked.
        self.work(
            release,
            "configuration-management",
            state="blocked",
            blocked_reason="Waiting for the TLS certificate for refunds.example.com (ticket NET-2211).",
        )
        # Under way; the rest are open.
        self.work(
            release,
            "data-migration-plan",
            state="in_progress",
            note="Index built online with CREATE INDEX CONCURRENTLY; dry run on a prod copy tomorrow.",
        )
        self.work(release, "database-migration", slug=dp, state="in_progress")
        self.work(release, "monitoring-alerting", state="in_progress")
        self.work(release, "production-environment", slug=dp, state="in_progress")
        self.work(
            release,
            "performance-tuning",
            slug=dp,
            state="not_applicable",
            justification="No performance work planned in 3.1 beyond the new index, which is load-tested.",
        )

    def billing_approved(self, project: Project) -> Release:
        release = self.create(
            project,
            "Billing",
            "3.0.1",
            ["deployment-plan"],
            go_live_at=self.future(3, 7),
            window_end_at=self.future(3, 8),
            git_ref="v3.0.1",
            description="Hotfix: VAT rounding on credit notes.",
            rollback_plan="Redeploy v3.0.0 (tag v3.0.0); no schema change.",
        )
        manager = self.u("manager")
        self.start(release)
        self.assign_all(release)
        self.finish_all(
            release,
            not_applicable={"performance-tuning": "A one-line rounding fix; no performance impact."},
            notes={"smoke-testing": "Credit note C-2024-118 re-issued on staging with the right VAT."},
        )
        release_transition(
            release=release,
            actor=manager,
            to=Release.State.APPROVED,
            reason="All green; hotfix goes out in the early-morning window.",
        )
        return release

    def billing_completed(self, project: Project) -> Release:
        release = self.create(
            project,
            "Billing",
            "3.0",
            ["release-readiness"],
            flags=["customer_facing"],
            go_live_at=self.future(1, 10),
            window_end_at=self.future(1, 13),
            git_ref="v3.0.0",
            description="The new customer billing portal.",
            rollback_plan="Switch the portal feature flag off and redeploy v2.9.4.",
            stakeholders=[self.u("stakeholder")],
            stakeholder_emails=["finance-leads@example.com"],
        )
        manager = self.u("manager")
        self.start(release)
        self.assign_all(release)
        self.finish_all(release, notes={"user-communication": "E-mail to all customers sent a week ahead."})
        release_transition(release=release, actor=manager, to=Release.State.APPROVED)
        phases = self.go_live(release, phases_done=len(PHASES), went_live_at=self.past(12, 10))
        assert all(p.state == Phase.State.DONE for p in Phase.objects.filter(pk__in=[p.pk for p in phases]))
        release_transition(
            release=release, actor=manager, to=Release.State.COMPLETED, reason="100 % for 24 hours, error rate normal."
        )
        return release

    def mobile_live(self, project: Project) -> Release:
        release = self.create(
            project,
            "Mobile app",
            "5.2",
            ["nasazeni-do-produkce"],
            flags=["database_migration"],
            go_live_at=self.future(1, 9),
            window_end_at=self.future(1, 12),
            git_ref="mobile-v5.2.0",
            description="Offline režim pro seznam objednávek.",
            rollback_plan="Zastavit postupné vydání v obchodech a vrátit backend na verzi 5.1.3.",
        )
        manager = self.u("manager")
        self.start(release)
        self.assign_all(release)
        self.finish_all(
            release,
            not_applicable={
                "aktualizace-dns": "Doména ani záznamy DNS se nemění.",
                "skoleni-provozniho-personalu": "Provoz se nemění; stačí poznámky k vydání.",
            },
            notes={"zakladni-testovani": "Smoke testy na produkci prošly (iOS i Android)."},
        )
        release_transition(release=release, actor=manager, to=Release.State.APPROVED)
        went_live = (self.now - dt.timedelta(hours=3)).replace(minute=0, second=0, microsecond=0)
        self.go_live(release, phases_done=2, went_live_at=went_live)
        return release

    def mobile_rolled_back(self, project: Project) -> Release:
        release = self.create(
            project,
            "Mobile app",
            "5.1",
            ["deployment-plan"],
            go_live_at=self.future(1, 14),
            window_end_at=self.future(1, 16),
            git_ref="mobile-v5.1.0",
            description="New payment screen with Apple Pay and Google Pay.",
            rollback_plan="Halt the staged rollout in both stores; backend back to 5.0.4.",
        )
        manager = self.u("manager")
        self.start(release)
        self.assign_all(release)
        self.finish_all(release, not_applicable={"performance-tuning": "Tuning is planned for 5.2."})
        release_transition(release=release, actor=manager, to=Release.State.APPROVED)
        phases = self.go_live(release, phases_done=1, went_live_at=self.past(5, 14))
        phase_transition(phase=phases[1], actor=manager, to=Phase.State.ROLLED_BACK)
        release_transition(
            release=release,
            actor=manager,
            to=Release.State.ROLLED_BACK,
            reason="Crash rate on Android 14 rose to 2.1 % in the 5 % canary (payment screen). "
            "Rolled back to 5.0.4; the fix is planned for 5.2.",
        )
        return release

    def mobile_cancelled(self, project: Project) -> Release:
        release = self.create(
            project,
            "Mobile app",
            "5.3",
            ["release-readiness"],
            go_live_at=self.future(21, 10),
            description="Dark mode and a redesigned settings screen.",
            rollback_plan="Halt the staged rollout; no backend change.",
        )
        manager = self.u("manager")
        self.start(release)
        self.assign_all(release)
        self.finish(release, "code-review")
        self.work(release, "functionality-testing", state="in_progress")
        release_transition(
            release=release,
            actor=manager,
            to=Release.State.CANCELLED,
            reason="Folded into 5.4 after the design review; the settings screen is being redone.",
        )
        return release
