"""Assertions shared by the API tests."""

from __future__ import annotations

from typing import Any


def problem(response: Any, status: int, code: str) -> dict[str, Any]:
    """Assert ``response`` is a problem body with ``status``/``code``; return it."""
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["code"] == code
    assert body["type"] == "about:blank" and body["title"] and isinstance(body["detail"], str)
    return body
