from rest_framework.test import APIClient

from approvals.services import item_create
from tests.factories import UserFactory


def test_the_api_front_page_lists_where_to_start(db):
    client = APIClient()
    client.force_authenticate(UserFactory(username="newcomer"))

    links = client.get("/api/v1/").json()["links"]

    assert links["releases"].endswith("/api/v1/releases/")
    assert links["docs"].endswith("/api/docs/")


def test_an_unrouted_api_url_gets_a_json_404(db):
    client = APIClient()
    client.force_authenticate(UserFactory(username="newcomer"))

    response = client.get("/api/v1/releases/not-a-number/")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found"}


def test_approvers_filter_the_checklist_by_their_role(release, manager, make_item):
    make_item(title="Pen test", role="Security")
    make_item(title="Load test", role="QA")
    item_create(release=release, actor=manager, title="Docs")
    client = APIClient()
    client.force_authenticate(manager)

    titles = [
        i["title"] for i in client.get(f"/api/v1/releases/{release.pk}/items/?approver_role=Security").json()["results"]
    ]

    assert titles == ["Pen test"]


def test_an_unknown_approver_role_is_named_in_the_error(release, manager):
    client = APIClient()
    client.force_authenticate(manager)

    response = client.post(
        f"/api/v1/releases/{release.pk}/items/", {"title": "X", "approver_role": "Nope"}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"approver_role": ["Unknown approver role 'Nope'."]}
