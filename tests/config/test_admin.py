"""The Django admin: every page opens for an administrator, history is read-only, and what
can be changed there goes through the services (rules and audit trail included)."""

import datetime as dt
import io
from html.parser import HTMLParser

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from approvals.models import ChecklistItem, SignOff
from checklists.models import ChecklistTemplate
from checklists.selectors import template_export_data
from checklists.services import template_import
from releases.models import AuditEvent, FreezeWindow, Project, Release

OUR_APPS = {"releases", "checklists", "approvals", "auth"}


@pytest.fixture(scope="class")
def demo(django_db_setup, django_db_blocker):
    """The demo data, loaded once for a class of tests and rolled back after it."""
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]),
        transaction.atomic(),
    ):
        call_command("demo", stdout=io.StringIO())
        yield
        transaction.set_rollback(True)


@pytest.fixture
def admin_client(client, demo, db):
    client.force_login(get_user_model().objects.get(username="admin"))
    return client


def url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


class FormFields(HTMLParser):
    """The values a browser would submit from the page's main form."""

    def __init__(self):
        super().__init__()
        self.data: dict[str, list[str]] = {}
        self._textarea = None
        self._select = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("submit", "button", "file"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.data.setdefault(name, []).append(a.get("value") or ("on" if a.get("type") == "checkbox" else ""))
        elif tag == "textarea" and name:
            self._textarea = name
            self.data[name] = [""]
        elif tag == "select" and name:
            self._select = name
            self.data.setdefault(name, [])
        elif tag == "option" and self._select and "selected" in a:
            self.data[self._select].append(a.get("value", ""))

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea][0] += data


def form_data(response, **changes):
    parser = FormFields()
    parser.feed(response.content.decode())
    data = {k: v if len(v) > 1 else (v[0] if v else "") for k, v in parser.data.items()}
    data.pop("csrfmiddlewaretoken", None)
    # Django renders a newline after <textarea>, which the browser drops.
    data = {k: v.removeprefix("\n") if isinstance(v, str) else v for k, v in data.items()}
    data.update(changes)
    return data


def messages_of(response):
    return [str(m) for m in response.context["messages"]] if response.context else []


@pytest.mark.usefixtures("demo")
class TestAdminPages:
    def test_superuser_opens_every_changelist_and_change_page(self, admin_client):
        failures = []
        for model in admin.site._registry:
            if model._meta.app_label not in OUR_APPS:
                continue
            response = admin_client.get(url(model, "changelist"))
            if response.status_code != 200:
                failures.append((model.__name__, "changelist", response.status_code))
            obj = model.objects.order_by("pk").first()
            assert obj is not None, f"the demo has no {model.__name__}"
            response = admin_client.get(url(model, "change", obj.pk))
            if response.status_code != 200:
                failures.append((model.__name__, "change", response.status_code))
        assert failures == []

    def test_changelists_offer_the_filters_and_search(self, admin_client):
        response = admin_client.get(url(Release, "changelist"), {"state__exact": "live"})
        assert [str(r) for r in response.context["cl"].result_list] == ["Mobile app 5.2"]
        assert "100%" in response.content.decode()

        response = admin_client.get(url(AuditEvent, "changelist"), {"action": "signoff.rejected"})
        assert [e.action for e in response.context["cl"].result_list] == ["signoff.rejected"]

        response = admin_client.get(url(ChecklistTemplate, "changelist"), {"q": "nasazeni"})
        assert [t.slug for t in response.context["cl"].result_list] == ["nasazeni-do-produkce"]

    @pytest.mark.parametrize("model", [AuditEvent, SignOff])
    def test_history_can_not_be_added_changed_or_deleted(self, admin_client, model):
        obj = model.objects.first()

        assert admin_client.get(url(model, "add")).status_code == 403
        assert admin_client.post(url(model, "add"), {}).status_code == 403
        assert admin_client.get(url(model, "delete", obj.pk)).status_code == 403
        assert admin_client.post(url(model, "delete", obj.pk), {"post": "yes"}).status_code == 403
        assert admin_client.post(url(model, "change", obj.pk), {}).status_code == 403
        page = admin_client.get(url(model, "change", obj.pk))
        assert page.status_code == 200
        assert 'name="_save"' not in page.content.decode()
        assert model.objects.filter(pk=obj.pk).exists()

    def test_audit_event_page_shows_before_and_after(self, admin_client):
        event = AuditEvent.objects.filter(action="signoff.rejected").get()

        page = admin_client.get(url(AuditEvent, "change", event.pk)).content.decode()

        assert "The DPA with the new refund provider is not countersigned yet" in page
        assert "legal" in page

    def test_release_state_is_not_a_form_field(self, admin_client):
        release = Release.objects.get(state="approved")

        page = admin_client.get(url(Release, "change", release.pk))

        assert "state" not in page.context["adminform"].form.fields
        assert admin_client.get(url(Release, "add")).status_code == 403

    def test_release_go_live_moved_in_the_admin_reopens_the_approved_release(self, admin_client):
        release = Release.objects.get(state="approved")
        page = admin_client.get(url(Release, "change", release.pk))
        later = (release.go_live_at + dt.timedelta(days=7)).astimezone(timezone.get_current_timezone())
        data = form_data(
            page,
            go_live_at_0=f"{later:%Y-%m-%d}",
            go_live_at_1=f"{later:%H:%M:%S}",
            window_end_at_0="",
            window_end_at_1="",
        )

        response = admin_client.post(url(Release, "change", release.pk), data, follow=True)

        assert response.status_code == 200, response.context["adminform"].form.errors
        release.refresh_from_db()
        assert release.go_live_at == later
        assert release.state == "in_progress"
        moved = AuditEvent.objects.filter(release=release, action="release.go_live_changed").get()
        assert moved.actor.username == "admin"

    def test_release_change_refused_by_the_service_shows_why(self, admin_client):
        release = Release.objects.get(state="draft")
        page = admin_client.get(url(Release, "change", release.pk))
        data = form_data(page, flags='["Not A Flag"]')

        response = admin_client.post(url(Release, "change", release.pk), data, follow=True)

        assert any("A list of flag names" in m for m in messages_of(response))
        release.refresh_from_db()
        assert release.flags == ["customer_facing"]

    def test_item_evidence_changed_in_the_admin_makes_its_approval_stale(self, admin_client):
        item = ChecklistItem.objects.get(release__state="approved", source_key="smoke-testing")
        page = admin_client.get(url(ChecklistItem, "change", item.pk))
        data = form_data(page, evidence_url="https://ci.example.com/billing/pipelines/9999")

        admin_client.post(url(ChecklistItem, "change", item.pk), data)

        item.refresh_from_db()
        assert item.evidence_url == "https://ci.example.com/billing/pipelines/9999"
        assert AuditEvent.objects.filter(action="signoff.stale", target_id__in=item.signoffs.values("pk")).exists()
        assert Release.objects.get(pk=item.release_id).state == "in_progress"

    def test_template_used_by_a_release_is_read_only_and_says_how_to_change_it(self, admin_client):
        template = ChecklistTemplate.objects.get(slug="release-readiness")

        page = admin_client.get(url(ChecklistTemplate, "change", template.pk))

        assert page.status_code == 200
        assert 'name="_save"' not in page.content.decode()
        assert any("A release uses this version" in m and "import_template" in m for m in messages_of(page))
        response = admin_client.post(url(ChecklistTemplate, "change", template.pk), {"name": "Changed"})
        assert response.status_code == 403
        template.refresh_from_db()
        assert template.name == "Release readiness"

    def test_template_version_no_release_uses_can_be_edited(self, admin_client):
        admin_user = get_user_model().objects.get(username="admin")
        newest = template_import(
            actor=admin_user, data=template_export_data(ChecklistTemplate.objects.get(slug="deployment-plan"))
        )
        page = admin_client.get(url(ChecklistTemplate, "change", newest.pk))
        assert 'name="_save"' in page.content.decode()
        assert messages_of(page) == []

        admin_client.post(url(ChecklistTemplate, "change", newest.pk), form_data(page, name="Deployment plan 2"))

        newest.refresh_from_db()
        assert (newest.name, newest.version, newest.items.count()) == ("Deployment plan 2", 2, 13)

    def test_freeze_window_added_in_the_admin_is_validated_and_audited(self, admin_client):
        page = admin_client.get(url(FreezeWindow, "add"))
        data = form_data(
            page,
            name="Year-end freeze",
            starts_at_0="2030-12-20",
            starts_at_1="00:00:00",
            ends_at_0="2031-01-02",
            ends_at_1="00:00:00",
            timezone="Europe/Prague",
        )

        admin_client.post(url(FreezeWindow, "add"), data)

        window = FreezeWindow.objects.get(name="Year-end freeze")
        assert AuditEvent.objects.filter(action="freeze_window.created", target_id=window.pk).exists()

        bad = form_data(page, name="Broken", weekday="2", start_time="10:00", end_time="10:00")
        response = admin_client.post(url(FreezeWindow, "add"), bad, follow=True)
        assert any("The end must differ from the start." in m for m in messages_of(response))
        assert not FreezeWindow.objects.filter(name="Broken").exists()

    def test_project_added_in_the_admin_with_members_goes_through_the_services(self, admin_client):
        page = admin_client.get(url(Project, "add"))
        qa = get_user_model().objects.get(username="qa")
        data = form_data(
            page,
            name="Data platform",
            slug="data-platform",
            **{
                "memberships-TOTAL_FORMS": "1",
                "memberships-0-user": str(qa.pk),
                "memberships-0-role": "member",
            },
        )

        admin_client.post(url(Project, "add"), data)

        project = Project.objects.get(slug="data-platform")
        assert list(project.memberships.values_list("user__username", "role")) == [("qa", "member")]
        actions = set(
            AuditEvent.objects.filter(target_type="releases.project", target_id=project.pk).values_list(
                "action", flat=True
            )
        )
        assert actions == {"project.created", "project.member_added"}

    def test_delegation_cancelled_by_an_admin_action(self, admin_client):
        from approvals.models import Delegation

        delegation = Delegation.objects.get()

        admin_client.post(url(Delegation, "changelist"), {"action": "cancel", "_selected_action": [delegation.pk]})

        delegation.refresh_from_db()
        assert delegation.cancelled_at is not None
        assert admin_client.get(url(Delegation, "add")).status_code == 403
