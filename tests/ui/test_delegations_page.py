"""Delegations in the browser: an approver names a delegate holding the same role for a date
range in their own time zone, sees those given and received (in force, upcoming, past) and
cancels their own."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from approvals.models import Delegation
from tests.browser import login, serious_accessibility_violations

pytestmark = pytest.mark.django_db(transaction=True)


def _local(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M")


def test_an_approver_names_a_delegate_then_cancels(page: Page, live_server, qa, qa2):
    login(page, live_server, "qa")
    page.goto(f"{live_server.url}/delegations/")
    expect(page.get_by_role("heading", name="Delegations", exact=True)).to_be_visible()
    assert serious_accessibility_violations(page) == []
    now = timezone.now()
    form = page.get_by_role("region", name="Name a delegate")
    form.get_by_role("textbox", name="Delegate").fill("qa2")
    form.get_by_label("Role").select_option(label="QA")
    form.get_by_label("From").fill(_local(now - dt.timedelta(hours=1)))
    form.get_by_label("Until").fill(_local(now + dt.timedelta(days=3)))
    form.get_by_role("button", name="Delegate", exact=True).click()

    expect(page.get_by_text("qa2 now signs for you as QA while the delegation runs.")).to_be_visible()
    active = page.get_by_role("region", name="In force now")
    expect(active.get_by_role("row", name="You qa2 QA")).to_be_visible()
    delegation = Delegation.objects.get()
    assert (delegation.delegator, delegation.delegate, delegation.role.name) == (qa, qa2, "QA")
    assert serious_accessibility_violations(page) == []

    active.get_by_role("button", name="Cancel the delegation to qa2 as QA").click()
    expect(page.get_by_text("The delegation is cancelled.")).to_be_visible()
    expect(page.get_by_text("None in force now.")).to_be_visible()
    past = page.get_by_role("region", name="Past and cancelled")
    expect(past.get_by_role("row", name="You qa2 QA")).to_contain_text("cancelled")
    delegation.refresh_from_db()
    assert delegation.cancelled_at is not None


def test_the_delegate_sees_it_received_and_cannot_cancel_it(client, scenario, qa, qa2):
    starts = timezone.now() + dt.timedelta(days=2)
    delegation = scenario.delegate(qa, qa2, "QA", starts_at=starts, ends_at=starts + dt.timedelta(days=2))
    client.force_login(qa2)
    response = client.get("/delegations/")
    assert [d.pk for d in response.context["upcoming"]] == [delegation.pk]
    assert f"/delegations/{delegation.pk}/cancel/" not in response.content.decode()
    assert client.post(f"/delegations/{delegation.pk}/cancel/").status_code == 403
    delegation.refresh_from_db()
    assert delegation.cancelled_at is None


def test_someone_elses_delegation_is_404_for_an_outsider(client, scenario, qa, qa2, outsider):
    delegation = scenario.delegate(
        qa, qa2, "QA", starts_at=timezone.now(), ends_at=timezone.now() + dt.timedelta(days=1)
    )
    client.force_login(outsider)
    assert client.post(f"/delegations/{delegation.pk}/cancel/").status_code == 404
    assert b"qa2" not in client.get("/delegations/").content
    delegation.refresh_from_db()
    assert delegation.cancelled_at is None


@pytest.mark.parametrize(
    ("delegate", "ends_at", "field", "message"),
    [
        ("contributor", "2030-01-12T09:00", "delegate", "The delegate must hold the QA role too."),
        ("nobody", "2030-01-12T09:00", "delegate", "Nobody is called nobody."),
        ("qa2", "2030-01-09T09:00", "ends_at", "The end must be after the start."),
    ],
)
def test_what_the_service_refuses_is_a_form_error_keeping_the_input(
    client, qa, qa2, contributor, delegate, ends_at, field, message
):
    client.force_login(qa)
    role = qa.groups.get(name="QA")
    response = client.post(
        "/delegations/", {"delegate": delegate, "role": role.pk, "starts_at": "2030-01-10T09:00", "ends_at": ends_at}
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors[field] == [message]
    assert form["delegate"].value() == delegate
    assert not Delegation.objects.exists()


def test_someone_without_an_approver_role_has_nothing_to_delegate(client, contributor):
    client.force_login(contributor)
    response = client.get("/delegations/")
    assert b"You hold no approver role" in response.content
    assert b'name="delegate"' not in response.content


@pytest.mark.parametrize("size", [1, 8])
def test_the_list_costs_the_same_queries_for_few_and_many(
    client, scenario, qa, qa2, size, django_assert_max_num_queries
):
    now = timezone.now()
    for n in range(size):
        scenario.delegate(
            qa, qa2, "QA", starts_at=now + dt.timedelta(days=n), ends_at=now + dt.timedelta(days=n, hours=5)
        )
        scenario.delegate(
            qa2, qa, "QA", starts_at=now + dt.timedelta(days=n), ends_at=now + dt.timedelta(days=n, hours=5)
        )
    client.force_login(qa)
    with django_assert_max_num_queries(7):
        response = client.get("/delegations/")
    assert sum(len(response.context[k]) for k in ("active", "upcoming", "past")) == 2 * size


def test_the_dates_are_read_in_the_approvers_time_zone(client, qa, qa2):
    from notifications.services import profile_update

    profile_update(user=qa, actor=qa, time_zone="Europe/Prague")
    client.force_login(qa)
    role = qa.groups.get(name="QA")
    client.post(
        "/delegations/",
        {"delegate": "qa2", "role": role.pk, "starts_at": "2030-01-10T09:00", "ends_at": "2030-01-12T18:00"},
    )
    delegation = Delegation.objects.get()
    assert delegation.starts_at == dt.datetime(2030, 1, 10, 8, 0, tzinfo=dt.UTC)
    assert delegation.ends_at == dt.datetime(2030, 1, 12, 17, 0, tzinfo=dt.UTC)
    assert "Thu 10 Jan 2030 09:00" in client.get("/delegations/").content.decode()
