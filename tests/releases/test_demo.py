"""`manage.py demo`: logins printed, a release in every state, made through the services."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.test import override_settings

from approvals.models import ChecklistItem, Delegation, SignOff
from approvals.selectors import checklist_for_release
from notifications.permissions import audiences_for_release
from releases.models import AuditEvent, FreezeWindow, Phase, Project, Release
from releases.selectors import release_list
from tests.factories import UserFactory

# Hashing 17 passwords the production way takes seconds; the demo's logic does not depend on it.
FAST_HASHER = override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
USERNAMES = [
    "admin",
    "manager",
    "dev",
    "eng",
    "eng2",
    "qa",
    "security",
    "security2",
    "ops",
    "ops2",
    "data",
    "data2",
    "legal",
    "product",
    "product2",
    "support",
    "stakeholder",
]


def run_demo() -> str:
    out = io.StringIO()
    call_command("demo", stdout=out)
    return out.getvalue()


@pytest.fixture(scope="class")
def demo(django_db_setup, django_db_blocker):
    """The demo loaded once for a class of tests (each test still runs in its own savepoint)
    and rolled back after the class."""
    with django_db_blocker.unblock(), FAST_HASHER, transaction.atomic():
        yield run_demo()
        transaction.set_rollback(True)


@FAST_HASHER
def test_demo_refuses_to_take_over_an_existing_account(db):
    UserFactory(username="admin", is_staff=True, is_superuser=True)

    with pytest.raises(CommandError, match="these exist already: admin"):
        run_demo()
    assert not Release.objects.exists()


def by_state(state):
    return Release.objects.get(state=state)


@pytest.mark.usefixtures("db")
class TestDemoData:
    def test_demo_has_a_release_in_every_state(self, demo):
        states = sorted(Release.objects.values_list("state", flat=True))

        assert states == sorted(Release.State.values)
        for state in Release.State.values:
            assert f" {state} " in demo

    def test_demo_prints_every_login_with_its_password(self, demo):
        assert 'each password is the username followed by "-demo"' in demo
        for username in USERNAMES:
            assert f"  {username:<11}  {username}-demo " in demo

    def test_demo_users_can_log_in(self, demo, client):
        for username in USERNAMES:
            assert client.login(username=username, password=f"{username}-demo"), username
            client.logout()

    def test_demo_admin_is_a_superuser_who_may_override_freeze_windows(self, demo):
        admin = get_user_model().objects.get(username="admin")

        assert admin.is_superuser
        assert admin.is_staff
        assert admin.user_permissions.filter(codename="override_freeze").exists()
        assert not get_user_model().objects.filter(is_staff=True).exclude(username="admin").exists()

    def test_running_the_demo_twice_changes_nothing_and_prints_the_logins_again(self, demo):
        def counts():
            return [model.objects.count() for model in (Release, ChecklistItem, SignOff, AuditEvent)]

        before = counts()
        again = run_demo()

        assert "The demo users exist already" in again
        assert "manager-demo" in again
        assert counts() == before

    def test_demo_projects_have_their_team(self, demo):
        for project in Project.objects.all():
            members = set(project.memberships.values_list("user__username", "role"))
            assert ("manager", "admin") in members
            assert ("qa", "member") in members
            assert not {"admin", "stakeholder"} & {username for username, _ in members}
        assert sorted(Project.objects.values_list("name", flat=True)) == ["Billing", "Mobile app"]

    def test_demo_stakeholder_sees_only_the_releases_they_follow(self, demo):
        stakeholder = get_user_model().objects.get(username="stakeholder")

        assert sorted(str(r) for r in release_list(user=stakeholder)) == ["Billing 3.0", "Billing 3.1"]

    def test_demo_release_in_progress_shows_every_kind_of_item(self, demo):
        release = by_state("in_progress")
        items = {(i.source_slug, i.source_key): i for i in checklist_for_release(release.pk)}
        item = {key: i for (_, key), i in items.items() if key != "rollback-plan"}

        assert {"release-readiness", "deployment-plan"} == {slug for slug, _ in items}
        assert item["code-review"].is_ready
        assert (item["security-testing"].valid_approvals, item["security-testing"].required_signoffs) == (1, 2)
        assert item["legal-compliance"].has_rejection
        assert item["legal-compliance"].state == "in_progress"
        assert item["configuration-management"].state == "blocked"
        assert item["configuration-management"].blocked_reason
        stale = item["functionality-testing"]
        assert stale.state == "done"
        assert stale.valid_approvals == 0
        assert stale.signoffs.count() == 1
        assert AuditEvent.objects.filter(action="signoff.stale", release=release).count() == 1
        delegated = SignOff.objects.get(item=item["user-access-control"])
        assert (delegated.approver.username, delegated.signed_by.username) == ("security", "security2")
        assert item["performance-tuning"].state == "not_applicable"
        assert item["performance-tuning"].justification
        assert item["data-migration-plan"].condition_flag == "database_migration"
        assert {"open", "in_progress", "done", "blocked", "not_applicable"} <= {i.state for i in items.values()}
        assert not ChecklistItem.objects.filter(release=release, assignee__isnull=True).exists()
        readiness = release_list(user=release.created_by).get(pk=release.pk).readiness
        assert 0 < readiness < 100

    def test_demo_approved_release_is_fully_signed_with_distinct_approvers(self, demo):
        release = by_state("approved")
        readiness = release_list(user=release.created_by).get(pk=release.pk).readiness

        assert readiness == 100
        assert AuditEvent.objects.filter(action="release.approved", release=release).exists()
        for item in checklist_for_release(release.pk).filter(required=True):
            signers = {s.approver_id for s in item.signoffs.all()}
            assert len(signers) >= item.required_signoffs
            assert item.assignee_id not in signers

    def test_demo_live_release_is_part_way_through_its_phases(self, demo):
        release = by_state("live")
        phases = list(release.phases.values_list("name", "state"))

        assert phases == [("Staging", "done"), ("Canary 5 %", "done"), ("25 %", "in_progress"), ("100 %", "pending")]
        assert release.applied_templates.get().slug == "nasazeni-do-produkce"

    def test_demo_finished_releases_went_live_in_the_past(self, demo):
        completed, rolled_back = by_state("completed"), by_state("rolled_back")

        assert set(completed.phases.values_list("state", flat=True)) == {Phase.State.DONE}
        assert rolled_back.phases.filter(state=Phase.State.ROLLED_BACK).exists()
        assert rolled_back.state_reason
        assert by_state("cancelled").state_reason
        for release in (completed, rolled_back, by_state("live")):
            assert release.go_live_at < release.went_live_at

    def test_demo_has_a_weekly_freeze_window_and_a_delegation(self, demo):
        window = FreezeWindow.objects.get()
        delegation = Delegation.objects.get()

        assert (window.name, window.weekday, window.project) == ("No Friday afternoon go-lives", 4, None)
        assert (delegation.delegator.username, delegation.delegate.username, delegation.role.name) == (
            "security",
            "security2",
            "Security",
        )
        # The draft is planned into the freeze, so its page can show the clash.
        assert by_state("draft").go_live_at.weekday() == 4

    def test_demo_has_an_audience_in_each_language_to_announce_to(self, demo):
        manager = get_user_model().objects.get(username="manager")
        for release, language in (("Billing", "en"), ("Mobile app", "cs")):
            [audience] = audiences_for_release(manager, Release.objects.filter(name=release).first())
            assert audience.language == language
            assert audience.members.count() >= 2

    def test_demo_evidence_links_point_at_ci(self, demo):
        urls = set(ChecklistItem.objects.exclude(evidence_url="").values_list("evidence_url", flat=True))

        assert urls
        assert all(url.startswith(("https://ci.example.com/", "https://wiki.example.com/")) for url in urls)
