"""A project's Slack-compatible webhook: a JSON POST per release event; a 4xx answer is
permanent, a 5xx is retried. The receiver is a local HTTP server standing in for Slack."""

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from config.domain import DomainError
from notifications.models import Notification
from notifications.services.delivery import notification_deliver
from notifications.services.webhooks import project_webhook_set
from releases.services import release_transition

pytestmark = pytest.mark.django_db


@pytest.fixture
def hook_server():
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, self.headers["Content-Type"], json.loads(body)))
            code = {"/ok": 200, "/gone": 404, "/down": 503}[self.path]
            self.send_response(code)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.received = received
    server.url = f"http://127.0.0.1:{server.server_port}"
    yield server
    server.shutdown()


def _cancel_and_deliver(release, manager):
    release_transition(release=release, actor=manager, to="cancelled", reason="Postponed.")
    row = Notification.objects.get(channel="webhook")
    notification_deliver(notification_id=row.pk)
    row.refresh_from_db()
    return row


def test_release_event_is_posted_as_json_text(hook_server, project, release, manager):
    project_webhook_set(project=project, actor=manager, url=f"{hook_server.url}/ok")
    row = _cancel_and_deliver(release, manager)
    assert row.status == "sent"
    [(path, content_type, body)] = hook_server.received
    assert path == "/ok"
    assert content_type == "application/json"
    assert body["text"].startswith("Billing 2.0 is cancelled\n<http://127.0.0.1:8000/releases/")
    assert body["event"] == "release_cancelled"


def test_a_4xx_answer_fails_for_good(hook_server, project, release, manager):
    project_webhook_set(project=project, actor=manager, url=f"{hook_server.url}/gone")
    row = _cancel_and_deliver(release, manager)
    assert row.status == "failed"
    assert "404" in row.last_error


def test_a_5xx_answer_is_retried(hook_server, project, release, manager):
    project_webhook_set(project=project, actor=manager, url=f"{hook_server.url}/down")
    row = _cancel_and_deliver(release, manager)
    assert row.status == "pending"
    assert row.attempts == 1
    assert "503" in row.last_error


def test_only_project_admins_set_the_webhook_and_only_web_addresses(project, contributor, manager):
    with pytest.raises(DomainError):
        project_webhook_set(project=project, actor=contributor, url="https://hooks.example.com/x")
    with pytest.raises(DomainError):
        project_webhook_set(project=project, actor=manager, url="file:///etc/passwd")


def test_webhook_text_escapes_slack_control_sequences(hook_server, project, manager, make_item, contributor, qa, done):
    project_webhook_set(project=project, actor=manager, url=f"{hook_server.url}/ok")
    done(make_item(assignee=contributor, role="QA", title="<!channel> see <https://evil.example|the runbook>"))
    notification_deliver(notification_id=Notification.objects.get(channel="webhook").pk)
    [(_path, _type, body)] = hook_server.received
    assert "<!channel>" not in body["text"]
    assert "&lt;!channel&gt; see &lt;https://evil.example|the runbook&gt;" in body["text"]
