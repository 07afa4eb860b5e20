"""Fixtures for the API tests (tests/config/test_api_*.py). Named `api_*` so that other
fixtures added here later don't collide with them."""

import pytest
from rest_framework.test import APIClient


@pytest.fixture
def api_client():
    """An unauthenticated APIClient."""
    return APIClient()


@pytest.fixture
def api_as():
    """api_as(user) → an APIClient authenticated as that user (force_authenticate)."""

    def make(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make


@pytest.fixture
def api_token_for():
    """api_token_for(user) → an APIClient that sends `Authorization: Token ...`, the token
    obtained through POST /api/v1/auth/token/ with the user's password ("pw")."""

    def make(user, password="pw"):
        client = APIClient()
        response = client.post(
            "/api/v1/auth/token/", {"username": user.get_username(), "password": password}, format="json"
        )
        assert response.status_code == 200, response.content
        client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
        return client

    return make
