"""The browser UI in Czech: with the language set to Czech, the pages people use every day
(dashboard, releases, a release with a failing go/no-go and phases, an item with sign-offs
and a refusal, the sign-off queue, the template editor, the login page) show no English
leftovers; the language switch in the header moves between Czech and English.

The data is Czech (project, release, items, sections, the approver role), so whatever English
the pages show is the interface's own."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.utils import formats, timezone, translation
from playwright.sync_api import Page, expect

from releases.models import ProjectMembership
from tests.browser import login
from tests.factories import in_days

pytestmark = pytest.mark.django_db(transaction=True)

# Common English words of the interface; none may be left on a Czech page (matched as whole
# words, case-sensitive). Not listed: words Czech shares ("Role", "API", "JSON", "go/no-go"),
# and the language's own name in the switch ("English").
ENGLISH = [
    "Release", "release", "Releases", "Sign-off", "sign-off", "Sign-offs", "Approve", "approve", "Approved",
    "approved", "Reject", "reject", "Rejected", "rejected", "Status", "State", "Due", "due", "Save", "Comment",
    "Comments", "Not done", "missing", "required", "Required", "Dashboard", "Log out", "Log in", "Search",
    "Filter", "Next", "Previous", "Checklist", "checklist", "Timeline", "Assignee", "assignee", "Evidence",
    "Template", "template", "Item", "item", "items", "Phase", "phase", "Go-live", "go-live", "Readiness",
    "Details", "Project", "Delegations", "Profile", "Password", "Username", "Forgot", "Language", "Freeze",
    "freeze", "Rollback", "rollback", "Blocked", "Open", "Done", "In progress", "Draft", "Pending",
    "Production", "production", "Deployment", "Stakeholders", "Flags", "Overdue", "overdue", "nobody", "Skip",
    "Nothing", "Cancel", "Edit", "Add", "Remove", "Section", "Title", "Category", "Guidance", "Key",
    "Optional", "Version", "Select", "Reason", "Move", "Back", "Show", "Separation", "duties", "signed",
    "Sign as", "on behalf", "Change password", "Templates", "Awaiting", "Recent activity", "system",
    "the", "and", "or", "of", "is", "you", "You", "your", "Your", "with", "not", "yet", "There", "has", "from",
    "Up to", "image",
]  # fmt: skip
_ENGLISH_RE = re.compile(r"(?<![\w-])(" + "|".join(re.escape(w) for w in ENGLISH) + r")(?![\w-])")

# What a person meets besides the visible text: the page title, and the names and hints
# that assistive technology reads.
_ATTRIBUTE_TEXT = """() => [document.title,
  ...[...document.querySelectorAll('[aria-label], [placeholder], [title]')].flatMap(
    (el) => ['aria-label', 'placeholder', 'title'].map((name) => el.getAttribute(name) || ''))
].join('\\n')"""

TEMPLATE = {
    "slug": "fakturace-kontroly",
    "name": "Kontroly fakturace",
    "language": "cs",
    "sections": [{"title": "Ověření", "items": [
        {"key": "zatez", "title": "Zátěžový test", "category": "performance", "approver_role": "Testeři",
         "required_signoffs": 1, "due_offset_days": -3},
        {"key": "zaloha", "title": "Záloha databáze", "category": "data_backup", "approver_role": "Testeři",
         "required_signoffs": 1, "evidence_required": True, "due_offset_days": -1,
         "guidance": "Ověřte obnovu ze zálohy."},
    ]}],
}  # fmt: skip


def english_leftovers(page: Page) -> list[str]:
    text = page.inner_text("body") + "\n" + page.evaluate(_ATTRIBUTE_TEXT)
    return sorted({match.group(0) for match in _ENGLISH_RE.finditer(text)})


def in_czech(page: Page, live_server) -> None:
    page.context.add_cookies([{"name": "django_language", "value": "cs", "url": live_server.url}])


@pytest.fixture
def world(scenario, staff):
    """A release of the project Fakturace that is not ready: an item open, one awaiting a
    second sign-off (its assignee may not give it), one rejected, one awaiting sign-off, no
    rollback plan; two phases; and a Czech checklist template."""
    project = scenario.project("Fakturace", "fakturace")
    scenario.join(project, scenario.person("vedouci"), role=ProjectMembership.Role.ADMIN)
    for name in ("tester", "tester2"):
        scenario.join(project, scenario.person(name, roles=["Testeři"]))
    scenario.join(project, scenario.person("vyvojar"))
    release = scenario.create(project, "Fakturace", "2.0", go_live_at=in_days(10), by="vedouci")
    scenario.start(release, by="vedouci")
    add = {"role": "Testeři", "by": "vedouci", "section": "Ověření"}
    open_item = scenario.add_item(release, "Zátěžový test", assignee="vyvojar", due_at=in_days(-1), **add)
    pair = scenario.add_item(release, "Kontrola zabezpečení", assignee="tester", required_signoffs=2, **add)
    scenario.work_item(pair)
    scenario.signoff(pair, "tester2", comment="Vypadá to dobře.")
    rejected = scenario.add_item(release, "Záloha databáze", assignee="vyvojar", **add)
    scenario.work_item(rejected)
    scenario.signoff(rejected, "tester2", decision="reject", comment="Chybí protokol obnovy.")
    waiting = scenario.add_item(release, "Revize kódu", assignee="vyvojar", due_at=in_days(3), **add)
    scenario.work_item(waiting)
    scenario.phase(release, "Příprava", production=False, by="vedouci")
    scenario.phase(release, "Ostrý provoz", by="vedouci")
    template = scenario.custom_template(TEMPLATE)
    return {"release": release, "open": open_item, "pair": pair, "template": template}


def _visit(page: Page, url: str) -> list[str]:
    page.goto(url)
    expect(page.locator("html")).to_have_attribute("lang", "cs")
    return english_leftovers(page)


def test_pages_in_czech_have_no_english_leftovers(page: Page, live_server, world):
    base = live_server.url
    release, pair = world["release"], world["pair"]
    login(page, live_server, "vedouci")
    in_czech(page, live_server)
    found = {}
    found["/"] = _visit(page, f"{base}/")
    found["/releases/"] = _visit(page, f"{base}/releases/")
    found["release"] = _visit(page, f"{base}/releases/{release.pk}/")
    gonogo = page.locator("#gonogo")
    expect(gonogo).to_contain_text("Není hotovo: Zátěžový test")
    expect(gonogo).to_contain_text("Chybí schválení: Kontrola zabezpečení")
    expect(gonogo).to_contain_text("Zamítl(a) tester2: Záloha databáze")
    expect(gonogo).to_contain_text("Chybí plán návratu.")
    expect(page.get_by_role("heading", name="Fáze nasazení")).to_be_visible()
    expect(page.get_by_role("button", name="Zahájit fázi Příprava")).to_be_visible()
    page.context.clear_cookies()

    login(page, live_server, "tester")
    in_czech(page, live_server)
    found["item"] = _visit(page, f"{base}/items/{pair.pk}/")
    expect(page.locator(".refusal")).to_contain_text("Oddělení povinností: jste řešitelem položky")
    expect(page.get_by_text("Vypadá to dobře.")).to_be_visible()
    found["/signoffs/"] = _visit(page, f"{base}/signoffs/")
    expect(page.get_by_role("button", name="Schválit vybrané")).to_be_visible()
    found["tester /"] = _visit(page, f"{base}/")
    page.context.clear_cookies()

    login(page, live_server, "admin")
    in_czech(page, live_server)
    found["editor"] = _visit(page, f"{base}/templates/{world['template'].pk}/edit/")
    expect(page.get_by_role("heading", name="Upravit Kontroly fakturace (v1)")).to_be_visible()
    page.context.clear_cookies()

    in_czech(page, live_server)
    found["login"] = _visit(page, f"{base}/accounts/login/")
    expect(page.get_by_label("Uživatelské jméno")).to_be_visible()

    assert {where: words for where, words in found.items() if words} == {}


def test_the_language_switch_moves_between_czech_and_english(page: Page, live_server, world):
    login(page, live_server, "vedouci")
    expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()
    page.get_by_label("Language").select_option("cs")
    expect(page.get_by_role("heading", name="Přehled", level=1)).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "cs")
    page.get_by_role("link", name="Vydání", exact=True).click()
    expect(page.get_by_role("heading", name="Vydání", level=1)).to_be_visible()
    expect(page.get_by_role("cell", name="Rozpracováno")).to_be_visible()
    page.get_by_label("Jazyk").select_option("en")
    expect(page.get_by_role("heading", name="Releases", level=1)).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert english_leftovers(page)  # the check does see English


def test_czech_dates_and_plural_forms(client, world):
    """Dates in Czech (day, month's name in the genitive, year) and Czech plural forms: one,
    two to four, five and more."""
    release = world["release"]
    client.force_login(User.objects.get(username="vedouci"))
    client.cookies["django_language"] = "cs"
    html = client.get(f"/releases/{release.pk}/").content.decode()
    with translation.override("cs"):
        go_live = formats.date_format(timezone.localtime(release.go_live_at), "DATETIME_FORMAT")
    months = "ledna|února|března|dubna|května|června|července|srpna|září|října|listopadu|prosince"
    assert re.fullmatch(rf"\d{{1,2}}\. ({months}) \d{{4}} \d{{1,2}}:\d\d", go_live), go_live
    assert go_live in html
    assert "7 podmínek není splněno:" in html
    client.force_login(User.objects.get(username="tester"))
    assert "2 položky čekají na schválení" in client.get("/signoffs/").content.decode()
    assert "1 povinná položka po termínu" in client.get("/").content.decode()


def test_czech_catalogue_is_complete_and_consistent():
    """Every message translated (all three plural forms), none fuzzy, the placeholders the same
    as in English (Babel's checks, as `pybabel compile` would run them)."""
    from pathlib import Path

    from babel.messages.pofile import read_po

    path = Path(__file__).resolve().parents[2] / "locale" / "cs" / "LC_MESSAGES" / "django.po"
    with path.open("rb") as f:
        catalog = read_po(f, locale="cs")
    assert catalog.num_plurals == 3
    messages = [m for m in catalog if m.id]
    assert [m.id for m in messages if m.fuzzy] == []
    untranslated = [m.id for m in messages if not all(m.string if isinstance(m.string, tuple) else [m.string])]
    assert untranslated == []
    assert [(m.id, [str(e) for e in errors]) for m, errors in catalog.check()] == []
