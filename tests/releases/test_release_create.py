import datetime as dt

import pytest

from approvals.models import ChecklistItem
from checklists.models import ChecklistTemplate, TemplateItem
from config.domain import Forbidden, Invalid, NotFound
from releases import permissions
from releases.models import Release, ReleaseTemplate
from releases.services import release_create

from ..factories import UserFactory, in_days
from .conftest import last_audit


def create(actor, project, **kwargs):
    kwargs.setdefault("name", "Checkout")
    kwargs.setdefault("go_live_at", in_days(14))
    return release_create(actor=actor, project=project, **kwargs)


def test_project_admin_creates_a_draft_release_and_manages_it(project, manager):
    release = create(manager, project, version="3.1", rollback_plan="Redeploy 3.0.")

    assert release.state == Release.State.DRAFT
    assert release.created_by == manager
    assert permissions.can_manage_release(manager, release)
    assert list(permissions.release_managers(release)) == [manager]


def test_staff_who_is_not_a_member_may_create_a_release_and_manages_it(project):
    admin = UserFactory(username="ops-admin", is_staff=True)

    release = create(admin, project)

    assert permissions.can_manage_release(admin, release)
    assert permissions.can_view_release(admin, release)


def test_plain_project_member_cannot_create_a_release(project, contributor):
    with pytest.raises(Forbidden) as exc:
        create(contributor, project)

    assert exc.value.code == "not_project_admin"
    assert not Release.objects.exists()


def test_outsider_cannot_create_a_release_and_does_not_learn_the_project_exists(project, outsider):
    with pytest.raises(NotFound):
        create(outsider, project)

    assert not Release.objects.exists()


def test_creation_is_audited_with_the_release_fields(project, manager):
    release = create(manager, project, version="3.1")

    event = last_audit(release, "release.created")
    assert event.actor == manager
    assert event.after["name"] == "Checkout"
    assert event.after["version"] == "3.1"
    assert event.after["go_live_at"] == release.go_live_at.isoformat()


def test_template_by_slug_gives_a_snapshot_of_its_unconditional_items(project, manager):
    release = create(manager, project, templates=["release-readiness"])

    template = ChecklistTemplate.objects.filter(slug="release-readiness").order_by("-version").first()
    expected = TemplateItem.objects.filter(template=template, condition_flag="")
    items = ChecklistItem.objects.filter(release=release)
    assert sorted(items.values_list("title", flat=True)) == sorted(expected.values_list("title", flat=True))
    assert set(items.values_list("template_id", "source_slug")) == {(template.pk, "release-readiness")}
    assert ReleaseTemplate.objects.get(release=release).template == template
    # Due dates follow the go-live date.
    code_review = items.get(source_key="code-review")
    assert code_review.due_at == release.go_live_at + dt.timedelta(days=code_review.due_offset_days)


def test_a_flag_at_creation_adds_the_conditional_items_it_switches_on(project, manager):
    plain = create(manager, project, templates=["release-readiness"])
    migrating = create(manager, project, name="Schema", templates=["release-readiness"], flags=["database_migration"])

    assert not plain.items.filter(source_key="data-migration-plan").exists()
    assert migrating.items.filter(source_key="data-migration-plan").exists()
    assert migrating.items.count() == plain.items.count() + 1


def test_two_templates_give_both_checklists(project, manager):
    release = create(manager, project, templates=["release-readiness", "deployment-plan"])

    assert set(release.items.values_list("source_slug", flat=True)) == {"release-readiness", "deployment-plan"}


def test_unknown_template_is_refused_and_nothing_is_created(project, manager):
    with pytest.raises(Invalid) as exc:
        create(manager, project, templates=["release-readiness", "no-such-template"])

    assert exc.value.code == "unknown_template"
    assert "templates" in exc.value.fields
    assert not Release.objects.exists()


def test_naive_go_live_is_refused(project, manager):
    with pytest.raises(Invalid) as exc:
        create(manager, project, go_live_at=dt.datetime(2030, 1, 1, 12, 0))

    assert exc.value.code == "naive_datetime"
    assert "go_live_at" in exc.value.fields


def test_naive_window_end_is_refused(project, manager):
    with pytest.raises(Invalid) as exc:
        create(manager, project, window_end_at=dt.datetime(2030, 1, 1, 12, 0))

    assert exc.value.code == "naive_datetime"
    assert "window_end_at" in exc.value.fields


def test_go_live_in_the_past_is_refused(project, manager):
    with pytest.raises(Invalid) as exc:
        create(manager, project, go_live_at=in_days(-1))

    assert exc.value.code == "go_live_in_past"
    assert not Release.objects.exists()


def test_deployment_window_ending_before_go_live_is_refused(project, manager):
    go_live = in_days(5)

    with pytest.raises(Invalid) as exc:
        create(manager, project, go_live_at=go_live, window_end_at=go_live - dt.timedelta(hours=1))

    assert "window_end_at" in exc.value.fields
    assert not Release.objects.exists()


def test_deployment_window_without_go_live_is_refused(project, manager):
    with pytest.raises(Invalid) as exc:
        create(manager, project, go_live_at=None, window_end_at=in_days(5))

    assert "window_end_at" in exc.value.fields


def test_release_without_go_live_may_be_drafted(project, manager):
    release = create(manager, project, go_live_at=None)

    assert release.go_live_at is None
    assert release.state == Release.State.DRAFT


def test_blank_name_is_refused(project, manager):
    with pytest.raises(Invalid) as exc:
        create(manager, project, name="   ")

    assert exc.value.code == "required"
    assert "name" in exc.value.fields


def test_bad_flag_name_is_refused(project, manager):
    with pytest.raises(Invalid) as exc:
        create(manager, project, flags=["Database Migration"])

    assert "flags" in exc.value.fields


def test_flags_none_is_invalid(project, manager):
    with pytest.raises(Invalid) as exc:
        create(manager, project, name="Ledger", flags=None)

    assert list(exc.value.fields) == ["flags"]
    assert not Release.objects.filter(name="Ledger").exists()


def test_flags_as_one_string_is_invalid_not_split_into_letters(project, manager):
    with pytest.raises(Invalid) as exc:
        create(manager, project, name="Ledger", flags="downtime")

    assert list(exc.value.fields) == ["flags"]
    assert not Release.objects.filter(name="Ledger").exists()


def test_stakeholder_emails_as_one_string_is_invalid(project, manager):
    with pytest.raises(Invalid) as exc:
        create(manager, project, name="Ledger", stakeholder_emails="a@b.c")

    assert list(exc.value.fields) == ["stakeholder_emails"]
    # the whole value is refused as not a list, not letter by letter ("'a' is not an e-mail")
    assert "list" in exc.value.fields["stakeholder_emails"][0]
    assert not Release.objects.filter(name="Ledger").exists()


def test_managers_named_at_creation_manage_alongside_the_creator(project, manager, contributor):
    release = create(manager, project, managers=[contributor])

    assert set(permissions.release_managers(release)) == {manager, contributor}
    assert permissions.can_manage_release(contributor, release)
