"""The site answers, and pages need a login."""

import pytest


@pytest.mark.django_db
def test_healthz_reports_database_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"ok": True}


@pytest.mark.django_db
def test_home_redirects_anonymous_users_to_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


@pytest.mark.django_db
def test_staff_home_shows_essay_counts(client, make_user):
    make_user("boss", staff=True)
    client.login(username="boss", password="pw-for-tests-1")
    response = client.get("/")
    assert response.status_code == 200
    assert b"pool essays" in response.content


def test_celery_worker_process_answers(celery_worker):
    from aes_site.celery import app

    assert app.control.ping(timeout=2.0, destination=[celery_worker.hostname])
