"""The OpenAPI schema, as /api/schema/ serves it, passes an independent validator
(openapi-spec-validator): what drf-spectacular generates is checked against the OpenAPI
specification itself, defaults and examples against their own schemas included."""

import pytest
import yaml
from openapi_spec_validator import OpenAPIV30SpecValidator

JSON = "application/vnd.oai.openapi+json"


@pytest.fixture
def served_schema(api_client, db):
    response = api_client.get("/api/schema/", HTTP_ACCEPT=JSON)
    assert response.status_code == 200
    assert response["Content-Type"].startswith(JSON)
    return response.json()


def test_the_served_schema_is_valid_openapi(served_schema):
    assert served_schema["openapi"].startswith("3.0.")
    problems = [_describe(error) for error in OpenAPIV30SpecValidator(served_schema).iter_errors()]
    assert problems == []


def _describe(error):
    """Where and what; a default or example checked against its own schema has no path, so
    that schema is shown."""
    where = "/".join(map(str, error.absolute_path)) or f"in {error.schema}"
    return f"{where}: {error.message}"


def test_the_yaml_the_schema_is_served_as_by_default_is_the_same_document(api_client, served_schema):
    response = api_client.get("/api/schema/")
    assert response.status_code == 200
    assert yaml.safe_load(response.content) == served_schema


def test_a_project_slug_left_out_has_no_default_its_pattern_refuses(served_schema, api_as, staff):
    slug = served_schema["components"]["schemas"]["ProjectCreateRequest"]["properties"]["slug"]
    assert "default" not in slug
    # The API still takes a blank slug, and makes one from the name.
    response = api_as(staff).post("/api/v1/projects/", {"name": "Billing Core", "slug": ""}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["slug"] == "billing-core"
