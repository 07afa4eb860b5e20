"""Projects in the browser: the ones a person sees with their role, a project's releases and
members; its administrators add and remove members (never the last administrator); staff
create projects."""

import pytest
from playwright.sync_api import Page, expect

from releases.models import Project, ProjectMembership
from tests.browser import login, serious_accessibility_violations
from tests.factories import in_days

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_project_admin_adds_and_removes_a_member_but_not_the_last_admin(
    page: Page, live_server, scenario, project, manager, contributor, release
):
    scenario.person("newbie", first_name="New", last_name="Person")
    login(page, live_server, "manager")
    page.goto(f"{live_server.url}/projects/")
    expect(page.get_by_role("row", name="Billing Administrator")).to_be_visible()
    assert serious_accessibility_violations(page) == []
    page.get_by_role("link", name="Billing").click()

    expect(page.get_by_role("heading", name="Billing", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Billing 2.0")).to_have_attribute("href", f"/releases/{release.pk}/")
    members = page.get_by_role("region", name="Members")
    expect(members.get_by_role("row", name="contributor")).to_contain_text("Member")
    assert serious_accessibility_violations(page) == []

    adding = page.get_by_role("region", name="Add a member or change a role")
    adding.get_by_label("Username").fill("newbie")
    adding.get_by_label("Role").select_option("member")
    adding.get_by_role("button", name="Add").click()
    expect(page.get_by_text("newbie is now in the project as Member.")).to_be_visible()
    expect(members.get_by_role("row", name="newbie")).to_contain_text("New Person")

    members.get_by_role("button", name="Remove newbie").click()
    expect(page.get_by_text("newbie is no longer in the project.")).to_be_visible()
    expect(members.get_by_role("row", name="newbie")).to_have_count(0)

    members.get_by_role("button", name="Remove manager").click()
    expect(page.locator(".message.error")).to_have_text(
        "manager is the project's last administrator; make someone else an administrator first."
    )
    assert ProjectMembership.objects.filter(project=project, user=manager, role="admin").exists()


def test_staff_create_a_project_and_a_taken_short_name_is_a_form_error(page: Page, live_server, staff, project):
    login(page, live_server, "admin")
    page.goto(f"{live_server.url}/projects/")
    creating = page.get_by_role("region", name="New project")
    creating.get_by_label("Name:", exact=True).fill("Payments")
    creating.get_by_label("Short name").fill("billing")
    creating.get_by_role("button", name="Create project").click()
    expect(page.locator("#id_slug_error")).to_contain_text("The slug 'billing' is taken.")
    expect(creating.get_by_label("Name:", exact=True)).to_have_value("Payments")

    creating.get_by_label("Short name").fill("")
    creating.get_by_role("button", name="Create project").click()
    expect(page.get_by_text("Project “Payments” created.")).to_be_visible()
    expect(page.get_by_role("heading", name="Payments")).to_be_visible()
    assert Project.objects.get(name="Payments").slug == "payments"


def test_an_outsider_gets_404_for_a_project_they_are_not_in(client, project, manager, contributor, outsider):
    client.force_login(outsider)
    assert b"Billing" not in client.get("/projects/").content
    assert client.get(f"/projects/{project.pk}/").status_code == 404
    assert client.post(f"/projects/{project.pk}/members/", {"username": "outsider"}).status_code == 404
    assert client.post(f"/projects/{project.pk}/members/{contributor.pk}/remove/").status_code == 404
    assert ProjectMembership.objects.filter(project=project, user=contributor).exists()


def test_a_member_reads_the_project_but_manages_nothing(client, project, manager, contributor, outsider):
    client.force_login(contributor)
    response = client.get(f"/projects/{project.pk}/")
    assert response.status_code == 200
    assert b"Add a member" not in response.content
    assert b"/remove/" not in response.content
    adding = client.post(f"/projects/{project.pk}/members/", {"username": "outsider", "role": "member"})
    assert adding.status_code == 403
    assert client.post(f"/projects/{project.pk}/members/{manager.pk}/remove/").status_code == 403
    assert client.post("/projects/", {"name": "Mine"}).status_code == 403
    assert not ProjectMembership.objects.filter(user=outsider).exists()


def test_an_unknown_username_is_a_form_error(client, project, manager):
    client.force_login(manager)
    response = client.post(f"/projects/{project.pk}/members/", {"username": "ghost", "role": "member"})
    assert response.status_code == 200
    assert response.context["member_form"].errors["username"] == ["Nobody is called ghost."]


@pytest.mark.parametrize("size", [1, 6])
def test_the_pages_cost_the_same_queries_for_few_and_many(
    client, scenario, staff, project, manager, size, django_assert_max_num_queries
):
    for n in range(size):
        other = scenario.project(f"Project {n}", f"project-{n}")
        scenario.join(other, manager, role=ProjectMembership.Role.ADMIN)
        scenario.join(project, scenario.person(f"member{n}"))
        scenario.create(project, "Billing", f"3.{n}", go_live_at=in_days(10 + n))
    client.force_login(manager)
    with django_assert_max_num_queries(5):
        listing = client.get("/projects/")
    assert len(listing.context["projects"]) == size + 1
    with django_assert_max_num_queries(10):
        detail = client.get(f"/projects/{project.pk}/")
    assert len(detail.context["members"]) == size + 1
    assert len(detail.context["releases"]) == size
