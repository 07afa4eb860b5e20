"""Freeze windows in the browser: everyone reads the ones they see, in their own time zone,
weekly ones with their next three occurrences; administrators create, edit and delete them."""

import datetime as dt

import pytest
from playwright.sync_api import Page, expect

from releases.models import FreezeWindow
from tests.browser import login, serious_accessibility_violations

pytestmark = pytest.mark.django_db(transaction=True)


def _next_fridays(count: int, *, end: dt.time) -> list[dt.date]:
    """Fridays (UTC) whose window [.., end] is not over yet, as the page should list them."""
    now = dt.datetime.now(dt.UTC)
    day, found = now.date() - dt.timedelta(days=1), []
    while len(found) < count:
        if day.weekday() == 4 and dt.datetime.combine(day, end, tzinfo=dt.UTC) > now:
            found.append(day)
        day += dt.timedelta(days=1)
    return found


def test_staff_creates_a_weekly_window_and_sees_its_next_three(page: Page, live_server, staff):
    login(page, live_server, "admin")
    page.goto(f"{live_server.url}/freeze-windows/")
    assert serious_accessibility_violations(page) == []
    page.get_by_role("link", name="New freeze window").click()
    page.get_by_label("Name").fill("No Friday evening go-lives")
    page.get_by_role("radio", name="Weekly").check()
    page.get_by_label("Every").select_option("4")
    page.get_by_label("From").fill("16:00")
    page.get_by_label("Until").fill("20:00")
    page.get_by_label("Time zone of the weekly times").select_option("UTC")
    page.get_by_label("Reason").fill("Nobody is around on Friday nights.")
    assert serious_accessibility_violations(page) == []
    page.get_by_role("button", name="Create").click()

    expect(page.get_by_text("Freeze window “No Friday evening go-lives” created.")).to_be_visible()
    row = page.get_by_role("row", name="No Friday evening go-lives")
    expect(row).to_contain_text("Friday 16:00–20:00 (UTC)")
    expect(row).to_contain_text("All projects")
    occurrences = row.locator(".occurrences li")
    expect(occurrences).to_have_count(3)
    for shown, day in zip(occurrences.all(), _next_fridays(3, end=dt.time(20)), strict=True):
        expect(shown).to_contain_text(f"Fri {day.day} {day:%b %Y} 16:00 – 20:00")
    window = FreezeWindow.objects.get()
    assert (window.weekday, window.start_time, window.end_time, window.timezone) == (
        4,
        dt.time(16),
        dt.time(20),
        "UTC",
    )


def test_staff_edits_a_window_then_deletes_it_after_confirming(page: Page, live_server, scenario, staff, project):
    scenario.freeze(
        "Holiday freeze",
        project=project,
        starts_at=dt.datetime(2030, 12, 20, 0, 0, tzinfo=dt.UTC),
        ends_at=dt.datetime(2031, 1, 3, 0, 0, tzinfo=dt.UTC),
    )
    login(page, live_server, "admin")
    page.goto(f"{live_server.url}/freeze-windows/")
    page.get_by_role("link", name="Edit Holiday freeze").click()
    expect(page.get_by_label("Starts")).to_have_value("2030-12-20T00:00")
    page.get_by_label("Ends").fill("2031-01-06T00:00")
    page.get_by_role("button", name="Save").click()
    row = page.get_by_role("row", name="Holiday freeze")
    expect(row).to_contain_text("Mon 6 Jan 2031 00:00")
    expect(row).to_contain_text("Billing")

    row.get_by_role("link", name="Delete Holiday freeze").click()
    expect(page.get_by_role("heading", name="Delete freeze window “Holiday freeze”?")).to_be_visible()
    assert serious_accessibility_violations(page) == []
    assert FreezeWindow.objects.count() == 1  # nothing is deleted by a GET
    page.get_by_role("button", name="Delete").click()
    expect(page.get_by_text("Freeze window “Holiday freeze” deleted.")).to_be_visible()
    expect(page.get_by_text("No one-off freeze windows.")).to_be_visible()
    assert not FreezeWindow.objects.exists()


def test_an_end_before_the_start_is_a_form_error_keeping_what_was_typed(client, staff):
    client.force_login(staff)
    response = client.post(
        "/freeze-windows/new/",
        {
            "name": "Backwards",
            "kind": "one_off",
            "starts_at": "2030-01-10T12:00",
            "ends_at": "2030-01-09T12:00",
            "timezone": "UTC",
        },
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["ends_at"] == ["The end must be after the start."]
    assert form["name"].value() == "Backwards"
    assert not FreezeWindow.objects.exists()


def test_others_read_the_windows_but_get_no_editing(client, scenario, staff, project, qa):
    window = scenario.freeze("Friday", weekday=4, start_time=dt.time(12), end_time=dt.time(23, 59))
    client.force_login(qa)
    listing = client.get("/freeze-windows/")
    assert b"Friday" in listing.content
    assert b"New freeze window" not in listing.content
    assert b"/edit/" not in listing.content
    assert client.get("/freeze-windows/new/").status_code == 403
    assert client.post("/freeze-windows/new/", {"name": "Mine", "kind": "weekly"}).status_code == 403
    assert client.get(f"/freeze-windows/{window.pk}/edit/").status_code == 403
    assert client.post(f"/freeze-windows/{window.pk}/delete/").status_code == 403
    assert FreezeWindow.objects.filter(pk=window.pk).exists()


def test_an_outsider_sees_no_project_window_and_gets_404_for_it(client, scenario, staff, project, outsider):
    window = scenario.freeze(
        "Billing audit",
        project=project,
        starts_at=dt.datetime(2030, 1, 10, 12, 0, tzinfo=dt.UTC),
        ends_at=dt.datetime(2030, 1, 11, 12, 0, tzinfo=dt.UTC),
    )
    client.force_login(outsider)
    assert b"Billing audit" not in client.get("/freeze-windows/").content
    assert client.get(f"/freeze-windows/{window.pk}/edit/").status_code == 404
    assert client.post(f"/freeze-windows/{window.pk}/delete/").status_code == 404


@pytest.mark.parametrize("size", [2, 12])
def test_the_list_costs_the_same_queries_for_few_and_many(
    client, scenario, staff, project, size, django_assert_max_num_queries
):
    for n in range(size):
        scenario.freeze(f"Weekly {n}", project=project, weekday=n % 7, start_time=dt.time(9), end_time=dt.time(17))
        scenario.freeze(
            f"One-off {n}",
            starts_at=dt.datetime(2030, 1, 1 + n, tzinfo=dt.UTC),
            ends_at=dt.datetime(2030, 1, 2 + n, tzinfo=dt.UTC),
        )
    client.force_login(staff)
    with django_assert_max_num_queries(5):
        response = client.get("/freeze-windows/")
    assert response.content.count(b'<th scope="row">Weekly ') == size


def test_next_occurrences_run_past_midnight_and_keep_local_time_over_a_clock_change():
    from releases.selectors import freeze_window_occurrences

    overnight = FreezeWindow(weekday=6, start_time=dt.time(22), end_time=dt.time(2), timezone="UTC")
    under_way = dt.datetime(2030, 1, 7, 1, 0, tzinfo=dt.UTC)  # Monday 01:00, inside Sunday's window
    assert freeze_window_occurrences(overnight, after=under_way)[0] == (
        dt.datetime(2030, 1, 6, 22, 0, tzinfo=dt.UTC),
        dt.datetime(2030, 1, 7, 2, 0, tzinfo=dt.UTC),
    )
    prague = FreezeWindow(weekday=4, start_time=dt.time(12), end_time=dt.time(18), timezone="Europe/Prague")
    starts = [start for start, _ in freeze_window_occurrences(prague, after=dt.datetime(2030, 3, 20, tzinfo=dt.UTC))]
    assert [s.astimezone(dt.UTC).hour for s in starts] == [11, 11, 10]  # 22 and 29 March CET, 5 April CEST
