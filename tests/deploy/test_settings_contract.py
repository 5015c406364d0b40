"""deploy/.env.example is the whole configuration: every variable read is listed, and no more."""

from __future__ import annotations

import re

from tests.deploy.envcontract import example_entries, variables_read

# Read by a library itself, not by our code; listed so operators know they exist.
READ_BY_LIBRARIES: set[str] = set()


def test_every_variable_the_project_reads_is_in_the_example() -> None:
    missing = variables_read() - set(example_entries())
    assert not missing, f"add to deploy/.env.example: {sorted(missing)}"


def test_every_variable_in_the_example_is_read_somewhere() -> None:
    unused = set(example_entries()) - variables_read() - READ_BY_LIBRARIES
    assert not unused, f"listed in deploy/.env.example but never read: {sorted(unused)}"


def test_every_variable_has_an_explanation() -> None:
    unexplained = [name for name, (_, why) in example_entries().items() if len(why) < 10]
    assert not unexplained, f"explain in a comment above: {unexplained}"


def test_the_example_holds_no_real_secret() -> None:
    entries = example_entries()
    for name in ("DJANGO_SECRET_KEY", "AWS_SECRET_ACCESS_KEY", "AUTHCHECK_METRICS_TOKEN"):
        assert entries[name][0] == "", f"{name} must stay empty in the example"
    # Passwords in URLs are visible placeholders, never something that could be real.
    for name, (value, _) in entries.items():
        for password in re.findall(r"://[^:/@]*:([^@]+)@", value):
            assert password.startswith("CHANGE-ME"), f"{name} carries a password: {value}"


def test_the_contract_parser_sees_helpers_and_file_secrets() -> None:
    # Guards the test itself: if the parser went blind, the two tests above would pass vacuously.
    read = variables_read()
    assert {"DJANGO_SECRET_KEY", "DJANGO_SECRET_KEY_FILE", "DATABASE_URL_FILE"} <= read
    assert {"AUTHCHECK_DATA_DIR", "DJANGO_DEBUG", "AUTHCHECK_S3_BUCKET"} <= read
