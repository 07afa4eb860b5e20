"""`make run` writes e-mail to files; staff read them at /mail/."""

import pytest

from releases.services import release_transition

pytestmark = pytest.mark.django_db


@pytest.fixture
def mail_to_files(settings, tmp_path):
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path)
    return tmp_path


def test_staff_read_the_mails_written_to_files(client, mail_to_files, scenario, release, manager, staff, deliver_all):
    scenario.update(release, by=manager, stakeholder_emails=["cfo@example.org"])
    release_transition(release=release, actor=manager, to="cancelled", reason="Budget frozen.")
    deliver_all()
    client.force_login(staff)
    page = client.get("/mail/").content.decode()
    assert "Billing 2.0 is cancelled" in page
    assert "cfo@example.org" in page
    assert "Budget frozen." in page


def test_others_and_a_sending_setup_get_404(client, mail_to_files, manager, staff, settings):
    client.force_login(manager)
    assert client.get("/mail/").status_code == 404
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    client.force_login(staff)
    assert client.get("/mail/").status_code == 404
