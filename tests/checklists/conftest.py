"""A small custom template ("ship-it") and helpers to build template data."""

import copy

import pytest

from tests.factories import in_days


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """The factories set a password on every user; the default hasher costs ~0.2 s each."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _item(key, title, *, role="QA", **extra):
    return {
        "key": key,
        "title": title,
        "category": "functional_testing",
        "approver_role": role,
        "required_signoffs": 1 if role else 0,
        "due_offset_days": -2,
        **extra,
    }


SHIP_IT = {
    "slug": "ship-it",
    "name": "Ship it",
    "sections": [
        {
            "title": "Before",
            "items": [
                _item("smoke-test", "Smoke test passes"),
                _item("backup", "Database backed up", role="Operations"),
                _item("docs", "Docs updated", role=None),
                _item("legacy", "Legacy check", role=None),
            ],
        },
        {
            "title": "Migrations",
            "items": [
                _item("migration-plan", "Migration plan reviewed", condition_flag="database_migration"),
            ],
        },
    ],
}


@pytest.fixture
def ship_it_data():
    """The template's data in the exchange format; a deep copy each test may change."""
    return copy.deepcopy(SHIP_IT)


@pytest.fixture
def ship_it(scenario, staff, ship_it_data):
    return scenario.custom_template(ship_it_data)


@pytest.fixture
def make_release(scenario, project, manager):
    """An in-progress release in the project, made from the given templates."""

    def make(*, templates=("ship-it",), flags=(), name="Checkout"):
        release = scenario.create(
            project,
            name,
            templates=list(templates),
            go_live_at=in_days(10),
            rollback_plan="Redeploy the previous tag.",
            flags=list(flags),
        )
        return scenario.start(release)

    return make
