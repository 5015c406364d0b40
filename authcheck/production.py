"""Start-up refusals for production: a configuration unsafe to expose stops the process.

Pure functions of the values the settings module read, so they are tested without importing
settings under a different environment.
"""

from __future__ import annotations

# Values people paste from examples and tutorials; a key in this set is no secret.
KNOWN_PLACEHOLDER_KEYS = frozenset(
    {"", "change-me", "changeme", "secret", "replace-me-with-50-random-characters"}
)
MIN_SECRET_KEY_LENGTH = 50


def secret_key_problem(secret_key: str) -> str | None:
    """Why ``secret_key`` is unfit for production, or None when it looks like a real secret."""
    if not secret_key:
        return "DJANGO_SECRET_KEY (or DJANGO_SECRET_KEY_FILE) is not set"
    if secret_key.lower() in KNOWN_PLACEHOLDER_KEYS or secret_key.startswith("django-insecure"):
        return "DJANGO_SECRET_KEY is a published placeholder"
    if len(secret_key) < MIN_SECRET_KEY_LENGTH or len(set(secret_key)) < 10:
        return f"DJANGO_SECRET_KEY must be at least {MIN_SECRET_KEY_LENGTH} random characters"
    return None


def production_refusals(*, debug: bool, secret_key: str, allowed_hosts: list[str]) -> list[str]:
    """Every reason this configuration must not serve in production (empty: it may start).

    ``secret_key`` is the configured key only: the key generated into the data directory for
    the embedded default does not count, since each replica would generate a different one.
    """
    problems: list[str] = []
    if debug:
        problems.append("DJANGO_DEBUG is on")
    key_problem = secret_key_problem(secret_key)
    if key_problem:
        problems.append(key_problem)
    if not allowed_hosts:
        problems.append("DJANGO_ALLOWED_HOSTS is empty")
    elif "*" in allowed_hosts:
        problems.append("DJANGO_ALLOWED_HOSTS must name the hosts, not '*'")
    return problems
