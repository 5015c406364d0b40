"""Entry, login, throttling, logout, password change, roles and headers of the dashboard."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from authcheck.models import AuditEvent, Role, User
from authcheck.services.people import user_upsert
from tests.dashboard.conftest import PASSWORD, client_for, person

pytestmark = pytest.mark.django_db


def test_root_redirects_to_the_dashboard(client: Client) -> None:
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == "/dashboard/"


def test_dashboard_asks_anonymous_visitors_to_log_in(client: Client) -> None:
    response = client.get("/dashboard/")
    assert response.status_code == 302
    assert response["Location"].startswith("/dashboard/login/?next=/dashboard/")


def test_login_with_the_right_password_opens_the_queue(journalist: User) -> None:
    client = Client()
    response = client.post(
        "/dashboard/login/", {"username": "jo", "password": PASSWORD, "next": "/dashboard/"}
    )
    assert response.status_code == 302 and response["Location"] == "/dashboard/"
    assert client.get("/dashboard/").status_code == 200


def test_login_never_redirects_to_another_site(journalist: User) -> None:
    response = Client().post(
        "/dashboard/login/",
        {"username": "jo", "password": PASSWORD, "next": "https://evil.example/"},
    )
    assert response["Location"] == "/dashboard/"


def test_wrong_password_is_refused_without_saying_which_part_was_wrong(journalist: User) -> None:
    response = Client().post("/dashboard/login/", {"username": "jo", "password": "nope"})
    assert response.status_code == 400
    assert b"Wrong user name or password" in response.content


def test_repeated_failures_are_throttled_even_with_the_right_password(
    journalist: User, settings
) -> None:
    settings.AUTHCHECK_LOGIN_MAX_FAILURES = 3
    client = Client()
    for _ in range(3):
        client.post("/dashboard/login/", {"username": "jo", "password": "wrong"})
    response = client.post("/dashboard/login/", {"username": "jo", "password": PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_api_clients_and_roleless_users_cannot_log_in(db) -> None:
    person("bot", Role.API_CLIENT)
    user_upsert(username="nobody", role=Role.JOURNALIST, password=PASSWORD)
    User.objects.filter(username="nobody").update(role="")
    for name in ("bot", "nobody"):
        response = Client().post("/dashboard/login/", {"username": name, "password": PASSWORD})
        assert response.status_code == 400


def test_deactivated_user_loses_access_on_the_next_request(journalist: User) -> None:
    client = client_for(journalist)
    User.objects.filter(pk=journalist.pk).update(is_active=False)
    assert client.get("/dashboard/").status_code == 302  # logged out by the auth backend


def test_logout_needs_a_post(journalist: User) -> None:
    client = client_for(journalist)
    assert client.get("/dashboard/logout/").status_code == 405
    assert client.post("/dashboard/logout/").status_code == 302
    assert client.get("/dashboard/").status_code == 302


def test_password_change_keeps_the_session_and_is_audited(journalist: User) -> None:
    client = client_for(journalist)
    new = "a much longer new passphrase"
    response = client.post(
        "/dashboard/password/",
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert response.status_code == 302
    assert client.get("/dashboard/").status_code == 200
    journalist.refresh_from_db()
    assert journalist.check_password(new)
    event = AuditEvent.objects.filter(action="user.password_changed").get()
    assert new not in event.body


def test_password_change_refuses_a_short_password(journalist: User) -> None:
    client = client_for(journalist)
    response = client.post(
        "/dashboard/password/",
        {"old_password": PASSWORD, "new_password1": "short", "new_password2": "short"},
    )
    assert response.status_code == 400
    journalist.refresh_from_db()
    assert journalist.check_password(PASSWORD)


def test_session_expires_after_the_configured_idle_time(journalist: User, settings) -> None:
    from datetime import timedelta

    from django.contrib.sessions.models import Session
    from django.utils import timezone

    assert settings.SESSION_COOKIE_AGE == 8 * 3600
    client = client_for(journalist)
    client.get("/dashboard/")
    soon = timezone.now() + timedelta(minutes=1)
    Session.objects.update(expire_date=soon)
    client.get("/dashboard/")  # within five minutes of the last touch: no write
    assert Session.objects.get().expire_date == soon
    session = client.session
    session["_seen"] = 0
    session.save()
    Session.objects.update(expire_date=soon)
    client.get("/dashboard/")  # a request after a while pushes the end out again (idle time)
    assert Session.objects.get().expire_date > timezone.now() + timedelta(hours=7)
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    response = client.get("/dashboard/")
    assert response.status_code == 302 and "/dashboard/login/" in response["Location"]


def test_every_dashboard_response_carries_the_strict_csp(journalist: User) -> None:
    for response in (Client().get("/dashboard/login/"), client_for(journalist).get("/dashboard/")):
        policy = response["Content-Security-Policy"]
        directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
        assert directives["default-src"] == "'self'"
        assert re.fullmatch(r"'self' 'nonce-[A-Za-z0-9+/=]+'", directives["script-src"])
        assert directives["object-src"] == "'none'"
        assert directives["frame-ancestors"] == "'none'"
        assert directives["base-uri"] == "'none'"
        assert directives["form-action"] == "'self'"
        assert "unsafe" not in policy
        nonce = directives["script-src"].split("'nonce-")[1].rstrip("'")
        # Every script tag carries this response's nonce; none is inline.
        scripts = re.findall(rb"<script[^>]*>", response.content)
        assert scripts and all(f'nonce="{nonce}"'.encode() in s for s in scripts)
        assert all(b"src=" in s for s in scripts)


def test_forms_without_a_csrf_token_are_refused(journalist: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(journalist)
    response = client.post("/dashboard/submit", {"url": "https://news.example/a.mp4"})
    assert response.status_code == 403


def test_cookies_are_secure_when_configured(monkeypatch) -> None:
    import importlib

    from authcheck import settings as settings_module

    monkeypatch.setenv("AUTHCHECK_SECURE_COOKIES", "1")
    reloaded = importlib.reload(settings_module)
    try:
        assert reloaded.SESSION_COOKIE_SECURE and reloaded.CSRF_COOKIE_SECURE
        assert reloaded.SESSION_COOKIE_HTTPONLY
    finally:
        monkeypatch.delenv("AUTHCHECK_SECURE_COOKIES")
        importlib.reload(settings_module)


def _dashboard_paths(check_id: int) -> list[str]:
    """One concrete path per dashboard route (every integer argument is ``check_id``)."""
    from dashboard.urls import urlpatterns

    paths = []
    for pattern in urlpatterns:
        route = re.sub(r"<int:\w+>", str(check_id), str(pattern.pattern))
        paths.append("/dashboard/" + route)
    return paths


def test_every_dashboard_route_refuses_a_post_without_a_csrf_token(admin: User) -> None:
    from tests.factories import CheckFactory

    check = CheckFactory(submitter=admin)
    before = AuditEvent.objects.count()
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin)
    paths = _dashboard_paths(check.pk)
    assert len(paths) >= 25 and "/dashboard/submit" in paths
    for path in paths:
        response = client.post(path, {"url": "https://news.example/a.mp4", "decision": "authentic"})
        assert response.status_code == 403, path
        assert b"CSRF" in response.content, path  # refused by the CSRF check, not by a role
    assert AuditEvent.objects.count() == before  # nothing was done


def test_the_login_form_refuses_a_post_without_a_csrf_token(journalist: User) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post("/dashboard/login/", {"username": "jo", "password": PASSWORD})
    assert response.status_code == 403 and "_auth_user_id" not in client.session


def test_the_same_post_with_its_csrf_token_goes_through(journalist: User, enqueued) -> None:
    from authcheck.models import Check

    client = Client(enforce_csrf_checks=True)
    client.force_login(journalist)
    client.get("/dashboard/")
    token = client.cookies["csrftoken"].value
    response = client.post(
        "/dashboard/submit", {"url": "https://news.example/a.mp4"}, HTTP_X_CSRFTOKEN=token
    )
    assert response.status_code != 403 and Check.objects.count() == 1


def test_the_api_with_a_bearer_token_needs_no_csrf_token_and_a_session_alone_is_not_enough(
    journalist: User, enqueued
) -> None:
    from authcheck.models import Check
    from authcheck.services.tokens import token_create

    _, raw = token_create(journalist)
    client = Client(enforce_csrf_checks=True)
    body = {"url": "https://news.example/a.mp4"}
    answered = client.post(
        "/api/v1/checks", body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {raw}"
    )
    assert answered.status_code == 202, answered.content
    # A dashboard session cookie (what a cross-site form would carry) does not authenticate the
    # API, so the API has nothing for CSRF to protect.
    session = Client(enforce_csrf_checks=True)
    session.force_login(journalist)
    refused = session.post("/api/v1/checks", body, content_type="application/json")
    assert refused.status_code == 401 and Check.objects.count() == 1
