"""The OpenAPI document is valid and complete; the docs page loads nothing from elsewhere."""

from __future__ import annotations

import re

import pytest
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

PATHS = {
    "/api/v1/checks": {"get", "post"},
    "/api/v1/checks/{id}": {"get"},
    "/api/v1/checks/{id}/reviews": {"post"},
    "/api/v1/checks/{id}/audit": {"get"},
    "/api/v1/checks/batch": {"post"},
    "/api/v1/checks/{id}/report": {"get"},
    "/api/v1/webhooks": {"get", "post"},
    "/api/v1/webhooks/{id}": {"delete"},
    "/api/v1/verify": {"post"},
    "/api/v1/media/{sha256}": {"get"},
    "/api/v1/checks/{id}/evidence/screenshot": {"get"},
    "/api/v1/me": {"get"},
}


@pytest.fixture
def schema() -> dict:
    response = APIClient().get("/api/v1/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def test_the_schema_is_valid_openapi_3_with_every_path(schema) -> None:
    validate_schema(schema)  # raises on an invalid document
    assert schema["openapi"].startswith("3.")
    assert {p: set(ops) - {"parameters"} for p, ops in schema["paths"].items()} == PATHS


def test_every_operation_needs_the_bearer_token_and_documents_problems(schema) -> None:
    assert schema["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert operation["security"] == [{"bearerAuth": []}], (path, method)
            assert "application/problem+json" in operation["responses"]["401"]["content"]


def test_the_list_documents_filters_and_pagination(schema) -> None:
    listing = schema["paths"]["/api/v1/checks"]["get"]
    names = {p["name"] for p in listing["parameters"]}
    assert names == {
        "status",
        "verdict",
        "submitter",
        "created_after",
        "created_before",
        "limit",
        "offset",
    }
    verdict = next(p for p in listing["parameters"] if p["name"] == "verdict")
    assert {"no_provenance", "synthetic"} <= set(verdict["schema"]["enum"])
    ref = listing["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert ref.endswith("PaginatedCheckList")


def test_submission_documents_both_bodies_and_both_success_codes(schema) -> None:
    post = schema["paths"]["/api/v1/checks"]["post"]
    assert set(post["requestBody"]["content"]) == {"application/json", "multipart/form-data"}
    assert {"200", "202", "413", "415"} <= set(post["responses"])


def test_the_docs_page_and_its_script_use_only_local_urls() -> None:
    page = APIClient().get("/api/v1/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "swagger-ui-bundle.js" in html and "drf_spectacular_sidecar" in html
    assert "<script>" not in html  # no inline script: the init script is a separate file
    assert "script-src 'self'" in page["Content-Security-Policy"]
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert urls and all(u.startswith("/") and not u.startswith("//") for u in urls)
    script_url = re.search(r'<script src="([^"]*script[^"]*)"', html).group(1).replace("&amp;", "&")
    script = APIClient().get(script_url)
    assert script.status_code == 200 and "SwaggerUIBundle" in script.content.decode()
    assert "/api/v1/schema/" in script.content.decode()
    assert not re.search(r"https?://", script.content.decode())
    assert '"validatorUrl": null' in script.content.decode()


def test_only_the_detail_of_a_check_documents_no_credentials(schema) -> None:
    components = schema["components"]["schemas"]
    detail = schema["paths"]["/api/v1/checks/{id}"]["get"]["responses"]["200"]
    assert detail["content"]["application/json"]["schema"]["$ref"].endswith("/CheckDetail")
    assert "no_credentials" in components["CheckDetail"]["properties"]
    assert "no_credentials" not in components["Check"]["properties"]
    assert set(components["Check"]["properties"]) < set(components["CheckDetail"]["properties"])
