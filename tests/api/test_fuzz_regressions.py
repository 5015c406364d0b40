"""Regressions for what the schemathesis run (test_fuzz.py) found, each pinned by one request."""

from __future__ import annotations

import re

import pytest
from rest_framework.test import APIClient

from authcheck.models import Verdict
from tests.api.helpers import problem
from tests.factories import CheckFactory

pytestmark = pytest.mark.django_db

LIST = "/api/v1/checks"


@pytest.mark.parametrize(
    "query",
    [
        {"offset": "null"},  # was ignored: page 1 served for a value the client got wrong
        {"limit": "0"},
        {"limit": "-1"},
        {"offset": "-1"},
        {"limit": ""},
        {"limit": "\u0661"},  # Arabic-Indic 1: int() reads it, the schema's integer does not
        {"offset": "9" * 20},  # beyond a 64-bit OFFSET
    ],
)
def test_pagination_values_it_cannot_read_are_a_400(jo, query) -> None:
    body = problem(jo.get(LIST, query), 400, "validation_error")
    assert set(body["errors"]) == set(query)


def test_pagination_still_caps_a_large_limit(jo, journalist) -> None:
    CheckFactory(submitter=journalist)
    page = jo.get(LIST, {"limit": "100000", "offset": "0"})
    assert page.status_code == 200 and page.json()["count"] == 1


@pytest.mark.parametrize("name", ["status", "verdict", "created_after", "created_before"])
def test_an_empty_filter_value_is_a_400_not_every_check(jo, journalist, name) -> None:
    CheckFactory(submitter=journalist)
    body = problem(jo.get(LIST, {name: ""}), 400, "validation_error")
    assert list(body["errors"]) == [name]


def test_an_empty_submitter_is_still_accepted_as_free_text(jo, journalist) -> None:
    CheckFactory(submitter=journalist)
    assert jo.get(LIST, {"submitter": ""}).status_code == 200


@pytest.mark.parametrize(
    ("value", "included_after"),
    [
        ("0202-04-03T16:57:38+20:05", True),  # PostgreSQL: time zone displacement out of range
        ("0001-01-01T00:00:00+05:00", True),  # before the datetime range once in UTC
        ("9999-12-31T23:59:59-05:00", False),  # after it
    ],
)
def test_date_filters_take_any_iso_offset(jo, journalist, value, included_after) -> None:
    made = CheckFactory(submitter=journalist)
    after = jo.get(LIST, {"created_after": value})
    before = jo.get(LIST, {"created_before": value})
    assert after.status_code == 200 and before.status_code == 200, after.content[:300]
    ids_after = {c["id"] for c in after.json()["results"]}
    ids_before = {c["id"] for c in before.json()["results"]}
    assert (made.pk in ids_after) is included_after
    assert (made.pk in ids_before) is not included_after


def test_the_schema_states_the_bounds_the_server_enforces() -> None:
    schema = APIClient().get("/api/v1/schema/", {"format": "json"}).json()
    params = {p["name"]: p["schema"] for p in schema["paths"][LIST]["get"]["parameters"]}
    assert params["limit"]["minimum"] == 1 and params["offset"]["minimum"] == 0
    body = schema["paths"][LIST]["post"]["requestBody"]["content"]["application/json"]["schema"]
    forms = schema["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]["oneOf"]
    url_form, page_form = (
        schema["components"]["schemas"][f["$ref"].rsplit("/", 1)[1]] for f in forms
    )
    for url in (url_form["properties"]["url"], page_form["properties"]["page_url"]):
        assert url["pattern"] == "^[Hh][Tt][Tt][Pp][Ss]?://" and url["maxLength"] == 2048


def test_the_schema_calls_a_note_blank_exactly_when_the_server_strips_it_away() -> None:
    schema = APIClient().get("/api/v1/schema/", {"format": "json"}).json()
    note = schema["components"]["schemas"]["ReviewCreateRequest"]["properties"]["note"]
    pattern = re.compile(note["pattern"])  # the same syntax reads alike in Python and ECMA-262
    # Every code point: the pattern finds it exactly when str.strip() (DRF's trim) keeps it.
    disagree = [
        hex(c) for c in range(0x110000) if (pattern.search(chr(c)) is None) != chr(c).isspace()
    ]
    assert disagree == []


@pytest.mark.parametrize("note", ["\f", "\x1c", "\u3000 \n"])
def test_a_whitespace_only_note_is_refused_and_records_nothing(ed, journalist, note) -> None:
    check = CheckFactory(submitter=journalist)
    payload = {"decision": "synthetic", "note": note}
    response = ed.post(f"/api/v1/checks/{check.pk}/reviews", payload, format="json")
    assert list(problem(response, 400, "validation_error")["errors"]) == ["note"]
    assert not Verdict.objects.filter(check_ref=check).exists()
