"""Audiences: lists of end users' addresses, of a project or global; typed, or imported from a
CSV file with the bad rows reported; unsubscribed by the link in each announcement."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from config.domain import Forbidden, Invalid
from notifications.models import Audience, AudienceMember
from notifications.permissions import access_audience
from notifications.services.audiences import audience_create, audience_import_csv, audience_update
from notifications.unsubscribe import unsubscribe_token
from releases.models import ProjectMembership

pytestmark = pytest.mark.django_db

API = "/api/v1"


def _emails(audience):
    return sorted(audience.members.filter(unsubscribed_at__isnull=True).values_list("email", flat=True))


def test_addresses_are_lower_cased_and_merged(audience):
    assert _emails(audience) == ["ann@example.com", "bob@example.com"]


def test_invalid_addresses_are_all_named_and_nothing_is_stored(project, manager):
    with pytest.raises(Invalid) as refused:
        audience_create(actor=manager, name="X", project=project, addresses=["ok@example.com", "nope", "a@@b"])
    assert refused.value.fields["addresses"] == ["Not an e-mail address: 'nope'", "Not an e-mail address: 'a@@b'"]
    assert not Audience.objects.exists()


def test_only_staff_make_a_global_audience(scenario, manager, staff):
    with pytest.raises(Forbidden):
        audience_create(actor=manager, name="Everyone", project=None, addresses=[])
    assert audience_create(actor=staff, name="Everyone", project=None, addresses=[]).project is None


def test_a_release_manager_who_is_no_project_admin_manages_the_projects_audiences(scenario, project, release, qa):
    from releases.permissions import grant_manage

    grant_manage(qa, release)
    made = audience_create(actor=qa, name="QA list", project=project, addresses=["x@example.com"])
    assert access_audience(qa, made.pk, manage=True) == made


def test_replacing_the_list_keeps_unsubscribed_addresses_out(audience, manager):
    AudienceMember.objects.filter(email="bob@example.com").update(unsubscribed_at="2026-01-01T00:00Z")
    audience_update(audience=audience, actor=manager, addresses=["bob@example.com", "cid@example.com"])
    assert _emails(audience) == ["cid@example.com"]
    assert AudienceMember.objects.filter(email="bob@example.com", unsubscribed_at__isnull=False).exists()


def test_csv_import_reports_bad_rows_by_line_and_merges_duplicates(audience, manager):
    content = (
        b"email,name\nann@example.com,Ann\nCID@example.com,Cid\nnot-an-address,X\n\n"
        b"cid@example.com,again\ndan@example.com\n"
    )
    report = audience_import_csv(audience=audience, actor=manager, content=content)
    assert report.added == 2
    assert report.merged == 2  # ann (already there) and cid (twice in the file)
    assert [(row["line"], row["value"]) for row in report.bad_rows] == [(4, "not-an-address")]
    assert _emails(audience) == ["ann@example.com", "bob@example.com", "cid@example.com", "dan@example.com"]


def test_csv_without_any_address_is_refused(audience, manager):
    with pytest.raises(Invalid) as refused:
        audience_import_csv(audience=audience, actor=manager, content=b"name\nAnn\nBob\n")
    assert "no valid e-mail address (line 2, 3)" in refused.value.fields["file"][0]


def test_ten_thousand_addresses_are_stored_in_a_few_queries(project, manager, django_assert_max_num_queries):
    addresses = [f"user{n}@example.com" for n in range(10_000)]
    with django_assert_max_num_queries(20):
        made = audience_create(actor=manager, name="Big", project=project, addresses=addresses)
    assert made.members.count() == 10_000


# --- API ----------------------------------------------------------------------------------


@pytest.fixture
def api():
    from rest_framework.test import APIClient

    def make(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make


def test_api_creates_reads_and_changes_an_audience(api, project, manager):
    made = api(manager).post(
        f"{API}/audiences/",
        {"name": "Customers", "project": project.pk, "language": "cs", "addresses": ["B@x.com", "a@x.com", "b@x.com"]},
        format="json",
    )
    assert made.status_code == 201, made.content
    body = made.json()
    assert (body["name"], body["project"], body["language"], body["count"]) == ("Customers", project.pk, "cs", 2)
    assert body["addresses"] == ["a@x.com", "b@x.com"]
    changed = api(manager).patch(f"{API}/audiences/{body['id']}/", {"addresses": ["c@x.com"]}, format="json")
    assert changed.json()["addresses"] == ["c@x.com"]
    listed = api(manager).get(f"{API}/audiences/").json()["results"]
    assert [(a["name"], a["count"]) for a in listed] == [("Customers", 1)]


def test_api_lists_invalid_addresses_in_a_400(api, project, manager):
    response = api(manager).post(
        f"{API}/audiences/", {"name": "X", "project": project.pk, "addresses": ["ok@x.com", "bad"]}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"addresses": ["Not an e-mail address: 'bad'"]}


def test_api_imports_a_csv_file(api, audience, manager):
    upload = SimpleUploadedFile("list.csv", b"new@example.com\nbroken\n", content_type="text/csv")
    response = api(manager).post(f"{API}/audiences/{audience.pk}/import/", {"file": upload}, format="multipart")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["added"], body["audience"]["count"]) == (1, 3)
    assert body["bad_rows"] == [{"line": 2, "value": "broken", "message": "Not an e-mail address: 'broken'"}]


def test_api_deletes_an_audience(api, audience, manager):
    assert api(manager).delete(f"{API}/audiences/{audience.pk}/").status_code == 204
    assert not Audience.objects.filter(pk=audience.pk).exists()


def test_an_outsider_gets_404_for_an_audience(api, audience, outsider, contributor):
    for user in (outsider, contributor):
        client = api(user)
        assert client.get(f"{API}/audiences/{audience.pk}/").status_code == 404
        assert client.patch(f"{API}/audiences/{audience.pk}/", {"name": "x"}, format="json").status_code == 404
        assert client.delete(f"{API}/audiences/{audience.pk}/").status_code == 404
        upload = SimpleUploadedFile("l.csv", b"a@x.com\n")
        assert client.post(f"{API}/audiences/{audience.pk}/import/", {"file": upload}).status_code == 404
        assert client.get(f"{API}/audiences/").json()["results"] == []
    assert Audience.objects.get(pk=audience.pk).name == "Billing customers"


def test_a_release_manager_sees_global_audiences_but_may_not_change_them(api, staff, manager):
    glob = audience_create(actor=staff, name="Everyone", addresses=["a@x.com"])
    client = api(manager)
    assert client.get(f"{API}/audiences/{glob.pk}/").status_code == 200
    assert client.patch(f"{API}/audiences/{glob.pk}/", {"name": "Mine"}, format="json").status_code == 403


# --- pages ----------------------------------------------------------------------------------


def test_audience_page_imports_a_csv_and_lists_the_bad_rows(client, audience, manager):
    client.force_login(manager)
    assert "Audiences" in client.get("/").content.decode()  # the navigation entry
    upload = SimpleUploadedFile("list.csv", b"x@example.com\nwrong\n", content_type="text/csv")
    response = client.post(
        f"/audiences/{audience.pk}/",
        {"name": "Billing customers", "project": audience.project_id, "language": "en",
         "addresses": "ann@example.com\nbob@example.com", "file": upload},
    )  # fmt: skip
    page = response.content.decode()
    assert "1 addresses added" in page
    assert "Line 2: Not an e-mail address: &#x27;wrong&#x27;" in page
    assert _emails(audience) == ["ann@example.com", "bob@example.com", "x@example.com"]


def test_audience_pages_make_a_new_audience(client, project, manager):
    client.force_login(manager)
    response = client.post(
        "/audiences/new/", {"name": "Shop", "project": project.pk, "language": "cs", "addresses": "A@x.com, b@x.com"}
    )
    made = Audience.objects.get(name="Shop")
    assert response.status_code == 302
    assert response["Location"] == f"/audiences/{made.pk}/"
    assert _emails(made) == ["a@x.com", "b@x.com"]
    assert "Shop" in client.get("/audiences/").content.decode()


def test_an_outsider_gets_404_for_the_audience_page_and_no_nav_entry(client, audience, outsider, scenario, project):
    member = scenario.join(project, scenario.person("member"), role=ProjectMembership.Role.MEMBER)
    for user in (outsider, member):
        client.force_login(user)
        assert client.get(f"/audiences/{audience.pk}/").status_code == 404
        assert "/audiences/" not in client.get("/").content.decode()


# --- unsubscribe ------------------------------------------------------------------------------


def test_unsubscribe_link_asks_then_one_click_post_unsubscribes(client, audience):
    token = unsubscribe_token("audience", f"{audience.pk}:ann@example.com")
    page = client.get(f"/unsubscribe/{token}/")
    assert page.status_code == 200
    assert _emails(audience) == ["ann@example.com", "bob@example.com"]  # a GET changes nothing
    done = client.post(f"/unsubscribe/{token}/", {"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200
    assert _emails(audience) == ["bob@example.com"]
    assert client.post(f"/unsubscribe/{token}/").status_code == 200  # twice: still fine
