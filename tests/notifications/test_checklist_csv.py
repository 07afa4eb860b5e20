"""The checklist's CSV export: what a spreadsheet opens, in the reader's language, safe."""

import csv
import io

import pytest

pytestmark = pytest.mark.django_db


def _rows(response):
    body = response.content.decode("utf-8")
    assert body.startswith("\ufeff")  # so that Excel reads UTF-8 (Czech) right
    return list(csv.reader(io.StringIO(body[1:])))


def test_the_csv_lists_every_item_with_its_columns(
    api_as, release, make_item, done, scenario, manager, contributor, qa
):
    item = make_item(title="Ověření zálohy", assignee=contributor)
    done(item, evidence_url="https://ci.example.com/build/7")
    scenario.signoff(item, qa)
    make_item(title="Optional check", role="", required=False)
    response = api_as(manager).get(f"/api/v1/releases/{release.pk}/checklist.csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="billing-20-checklist.csv"'
    header, first, second = _rows(response)
    assert header == ["Category", "Title", "Required", "State", "Assignee", "Due", "Approver role", "Sign-offs",
                      "Evidence URL"]  # fmt: skip
    assert first[:5] == ["Security", "Ověření zálohy", "yes", "Done", "contributor"]
    assert first[6:] == ["QA", "1/1", "https://ci.example.com/build/7"]
    assert second[1:3] == ["Optional check", "no"]
    assert second[6:8] == ["", ""]


def test_cells_a_spreadsheet_would_run_as_formulas_are_defused(api_as, release, make_item, manager):
    for title in ('=HYPERLINK("http://evil")', "+1+1", "-2", "@SUM(A1)", "Plain"):
        make_item(title=title, role="")
    rows = _rows(api_as(manager).get(f"/api/v1/releases/{release.pk}/checklist.csv"))[1:]
    assert [row[1] for row in rows] == ['\'=HYPERLINK("http://evil")', "'+1+1", "'-2", "'@SUM(A1)", "Plain"]


def test_the_headers_are_in_the_readers_language(client, release, make_item, manager):
    from notifications.services import profile_update

    make_item(title="Check", role="")
    profile_update(user=manager, actor=manager, language="cs")
    client.force_login(manager)
    response = client.get(f"/releases/{release.pk}/checklist.csv")
    assert response.status_code == 200
    header, row = _rows(response)
    assert header[0] == "Kategorie"
    assert row[2] == "ano"


def test_an_outsider_gets_404(api_as, client, release, outsider):
    assert api_as(outsider).get(f"/api/v1/releases/{release.pk}/checklist.csv").status_code == 404
    client.force_login(outsider)
    assert client.get(f"/releases/{release.pk}/checklist.csv").status_code == 404
