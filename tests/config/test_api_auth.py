"""Getting into the API (tokens, sessions with CSRF, the browsable API), the health
endpoints, and the schema and docs pages."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from ..factories import in_days

API = "/api/v1"
TOKEN_URL = f"{API}/auth/token/"


def _token(client: APIClient, username: str, password: str = "pw", **extra) -> str:
    response = client.post(TOKEN_URL, {"username": username, "password": password, **extra}, format="json")
    assert response.status_code == 200, response.content
    return response.json()["token"]


def _as_token(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


# --- tokens ----------------------------------------------------------------------------------


def test_token_is_given_for_username_and_password_and_opens_the_api(api_client, manager, release):
    key = _token(api_client, "manager")
    assert re.fullmatch(r"[0-9a-f]{40}", key)
    response = _as_token(key).get(f"{API}/releases/")
    assert response.status_code == 200
    assert [r["id"] for r in response.json()["results"]] == [release.pk]


def test_wrong_password_gets_400_and_no_token(api_client, manager):
    response = api_client.post(TOKEN_URL, {"username": "manager", "password": "wrong"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["Wrong username or password."]}
    assert not Token.objects.filter(user=manager).exists()


@pytest.mark.parametrize(
    "body",
    [{}, {"username": "manager"}, {"password": "pw"}, {"username": ["manager"], "password": "pw"}],
    ids=["empty", "no-password", "no-username", "username-list"],
)
def test_incomplete_token_request_gets_400_naming_the_field(api_client, manager, body):
    response = api_client.post(TOKEN_URL, body, format="json")
    assert response.status_code == 400
    assert set(response.json()) <= {"username", "password"}
    assert response.json()


def test_unknown_user_and_inactive_user_get_no_token(api_client, manager):
    manager.is_active = False
    manager.save()
    for username in ("manager", "nobody"):
        response = api_client.post(TOKEN_URL, {"username": username, "password": "pw"}, format="json")
        assert response.status_code == 400
        assert response.json()["non_field_errors"]


def test_the_same_token_comes_back_until_it_is_rotated(api_client, manager, release):
    first = _token(api_client, "manager")
    assert _token(api_client, "manager") == first

    rotated = _token(api_client, "manager", rotate=True)
    assert rotated != first
    assert list(Token.objects.filter(user=manager).values_list("key", flat=True)) == [rotated]

    old = _as_token(first).get(f"{API}/releases/")
    assert old.status_code == 401
    assert old.json()["code"] == "authentication_failed"
    assert _as_token(rotated).get(f"{API}/releases/").status_code == 200
    assert _token(api_client, "manager") == rotated


def test_a_rotation_needs_the_password(api_client, manager):
    first = _token(api_client, "manager")
    response = api_client.post(TOKEN_URL, {"username": "manager", "password": "nope", "rotate": True}, format="json")
    assert response.status_code == 400
    assert Token.objects.get(user=manager).key == first


@pytest.mark.parametrize(
    "header",
    ["Token", "Token a b", "Token " + "0" * 40, "Bearer abc", "Token ÿÿÿ"],
    ids=["no-key", "two-keys", "unknown-key", "other-scheme", "latin1-key"],
)
def test_bad_authorization_headers_get_401(api_client, manager, header):
    api_client.credentials(HTTP_AUTHORIZATION=header)
    response = api_client.get(f"{API}/releases/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_a_token_with_a_nul_character_gets_401(api_client, manager):
    api_client.credentials(HTTP_AUTHORIZATION="Token abc\x00def")
    assert api_client.get(f"{API}/releases/").status_code == 401


# --- unauthenticated ---------------------------------------------------------------------------

ENDPOINTS = [
    ("get", "/projects/"),
    ("get", "/releases/"),
    ("post", "/releases/"),
    ("get", "/releases/{release}/"),
    ("patch", "/releases/{release}/"),
    ("post", "/releases/{release}/transition/"),
    ("get", "/releases/{release}/items/"),
    ("get", "/releases/{release}/audit/"),
    ("get", "/templates/"),
    ("post", "/templates/import/"),
    ("get", "/freeze-windows/"),
    ("get", "/delegations/"),
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS, ids=[f"{m}-{p}" for m, p in ENDPOINTS])
def test_no_credentials_get_401_with_www_authenticate(api_client, release, method, path):
    response = getattr(api_client, method)(API + path.format(release=release.pk), {}, format="json")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json() == {
        "detail": "Authentication credentials were not provided.",
        "code": "not_authenticated",
    }


# --- sessions ----------------------------------------------------------------------------------


def test_a_logged_in_session_reads_the_api(manager, release):
    client = APIClient()
    assert client.login(username="manager", password="pw")
    response = client.get(f"{API}/releases/{release.pk}/")
    assert response.status_code == 200
    assert response.json()["name"] == "Billing"


def test_session_writes_need_the_csrf_token(manager, release):
    client = APIClient(enforce_csrf_checks=True)
    assert client.login(username="manager", password="pw")
    url = f"{API}/releases/{release.pk}/"

    refused = client.patch(url, {"description": "Without the CSRF token."}, format="json")
    assert refused.status_code == 403
    assert refused.json()["code"] == "permission_denied"
    assert "CSRF" in refused.json()["detail"]
    release.refresh_from_db()
    assert release.description == ""

    # The browsable API's page gives the CSRF cookie, as it does to a browser.
    assert client.get(url, HTTP_ACCEPT="text/html").status_code == 200
    csrf = client.cookies["csrftoken"].value
    accepted = client.patch(url, {"description": "With the token."}, format="json", HTTP_X_CSRFTOKEN=csrf)
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["description"] == "With the token."


def test_token_writes_need_no_csrf_token(manager, release):
    client = APIClient(enforce_csrf_checks=True)
    key = _token(client, "manager")
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = client.patch(f"{API}/releases/{release.pk}/", {"description": "From CI."}, format="json")
    assert response.status_code == 200
    assert response.json()["description"] == "From CI."


def test_the_browsable_api_renders_html_for_a_logged_in_user(manager, release):
    client = APIClient()
    client.login(username="manager", password="pw")
    response = client.get(f"{API}/releases/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert "Release List" in html
    assert "Billing" in html
    detail = client.get(f"{API}/releases/{release.pk}/", HTTP_ACCEPT="text/html")
    assert detail.status_code == 200
    assert "Release Detail" in detail.content.decode()


# --- health ----------------------------------------------------------------------------------


def test_healthz_answers_without_credentials(api_client):
    response = api_client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_health_endpoints_only_answer_reads(api_client, db):
    for path in ("/healthz", "/readyz"):
        response = api_client.post(path)
        assert response.status_code == 405, (path, response.content)
        assert response.json()["code"] == "method_not_allowed"


def test_readyz_is_ok_with_database_redis_and_a_worker(api_client, db, celery_worker):
    response = api_client.get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json() == {"status": "ok"}


def _redis_database_nobody_uses(url: str) -> int:
    """A database of this Redis server that no client has selected, so no worker consumes
    from it (a worker's connections show in CLIENT LIST with the database they selected).
    Other test runs share the server and start workers on databases of their own."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        in_use = {int(c["db"]) for c in client.client_list()}
        try:
            count = int(client.config_get("databases")["databases"])
        except redis.ResponseError:  # CONFIG turned off: Redis's default
            count = 16
    finally:
        client.close()
    free = [n for n in range(count) if n not in in_use]
    assert free, f"every database of {url} has a client: {sorted(in_use)}"
    return free[-1]


def test_readyz_names_missing_workers(api_client, db, settings):
    # A Redis database no worker consumes from: Redis answers, nobody listens.
    url = urlsplit(settings.REDIS_URL)
    settings.REDIS_URL = url._replace(path=f"/{_redis_database_nobody_uses(settings.REDIS_URL)}").geturl()
    response = api_client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "problems": {"workers": "no Celery worker answered"}}


def test_readyz_names_unreachable_redis(api_client, db, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = api_client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert set(body["problems"]) == {"redis"}
    assert body["problems"]["redis"].startswith("unreachable")


# --- schema and docs -------------------------------------------------------------------------


def test_schema_is_an_openapi_3_document(api_client, db):
    response = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "Shipcheck API"
    paths = schema["paths"]
    for path in (
        "/api/v1/auth/token/",
        "/api/v1/releases/",
        "/api/v1/releases/{id}/transition/",
        "/api/v1/items/{id}/signoffs/",
        "/api/v1/templates/import/",
    ):
        assert path in paths, sorted(paths)
    transition = paths["/api/v1/releases/{id}/transition/"]["post"]
    assert {"200", "400", "401", "403", "404", "409"} <= set(transition["responses"])
    assert set(paths["/healthz"]["get"]["responses"]) == {"200"}
    assert set(paths["/readyz"]["get"]["responses"]) == {"200", "503"}
    assert {"tokenAuth", "cookieAuth"} <= set(schema["components"]["securitySchemes"])


def test_docs_page_uses_only_local_static_files(api_client, db):
    response = api_client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger" in html.lower()
    assert "cdn" not in html.lower()
    scripts = re.findall(r"<script[^>]*\ssrc=[\"']([^\"']+)", html)
    styles = re.findall(r"<link[^>]*\shref=[\"']([^\"']+)", html)
    assert scripts, html
    assert all(src.startswith("/static/") for src in scripts), scripts
    assert all(href.startswith("/static/") for href in styles), styles
    assert not re.search(r"(src|href)=[\"']?(https?:)?//", html), html
    # Nor does Swagger UI send the schema's address to its online validator.
    assert re.search(r'"validatorUrl":\s*null', html), html


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("get", "/releases/abc/", 404),
        ("delete", "/delegations/abc/", 404),
        ("get", "/users/", 404),
        ("get", "/releases/1/nothing-here/", 404),
        ("post", "/releases", 404),
    ],
)
def test_paths_the_api_lacks_get_its_json_404(api_client, manager, method, path, status):
    api_client.force_authenticate(manager)
    response = getattr(api_client, method)(API + path)
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["code"] == "not_found"
    if path == "/releases":
        assert body["detail"] == "Not found. The address ends with a slash: /api/v1/releases/"


def test_a_token_write_without_the_trailing_slash_names_the_slash_not_csrf(db, manager):
    from django.test import Client

    token = Token.objects.create(user=manager).key
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        f"{API}/releases", {"name": "X"}, content_type="application/json", HTTP_AUTHORIZATION=f"Token {token}"
    )
    assert response.status_code == 404
    assert response.json()["detail"] == "Not found. The address ends with a slash: /api/v1/releases/"


def test_a_read_without_the_trailing_slash_is_redirected(api_client, manager):
    api_client.force_authenticate(manager)
    response = api_client.get(f"{API}/releases", {"state": "draft"})
    assert response.status_code == 301
    assert response["Location"] == f"{API}/releases/?state=draft"


def test_a_release_created_by_token_is_the_token_users(api_client, manager, project):
    """The token acts as its user: what it creates is recorded under that user."""
    client = _as_token(_token(api_client, "manager"))
    response = client.post(
        f"{API}/releases/",
        {"project": project.pk, "name": "Payments", "go_live_at": in_days(5).isoformat()},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["managers"] == [manager.pk]
    audit = client.get(f"{API}/releases/{response.json()['id']}/audit/").json()["results"]
    assert [(e["action"], e["actor_name"]) for e in audit] == [("release.created", "manager")]
