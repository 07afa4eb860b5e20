"""Helpers for the report tests: reports stored in a temporary media directory (except
through the real worker, which keeps its own), and a ready, approved release."""

import subprocess

import pytest

from releases import services


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def pdf_text(data: bytes, tmp_path) -> str:
    """The PDF's text as pdftotext reads it (layout kept: a table row stays on one line)."""
    path = tmp_path / "report.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout


@pytest.fixture
def ready_release(scenario, release, make_item, done, contributor, qa, manager):
    """The in-progress release with one required QA item done by the contributor and approved
    by qa, and a stakeholder."""
    item = make_item(title="Regression tests", assignee=contributor)
    done(item)
    scenario.signoff(item, qa, comment="Looks good.")
    return release


@pytest.fixture
def approved_release(ready_release, manager):
    return services.release_transition(release=ready_release, actor=manager, to="approved")


@pytest.fixture
def api_as():
    """api_as(user) → an APIClient authenticated as that user."""
    from rest_framework.test import APIClient

    def make(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make
