"""Small things: bootstrap_demo stops printing the first admin password once it was changed; /favicon.ico is served
and every page links its icon."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from labeling.models import Essay


@pytest.mark.django_db
def test_bootstrap_prints_the_admin_password_only_while_it_still_works(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    Essay.objects.create(text="An essay already imported.", origin="t", split="pool")  # no bundled import here
    first = StringIO()
    call_command("bootstrap_demo", stdout=first)
    password = (tmp_path / "admin-password.txt").read_text().strip()
    assert f"Admin login: admin / {password}" in first.getvalue()
    again = StringIO()
    call_command("bootstrap_demo", stdout=again)
    assert f"Admin login: admin / {password}" in again.getvalue()

    admin = get_user_model().objects.get(username="admin")
    admin.set_password("a-new-secret-of-mine")
    admin.save()
    after = StringIO()
    call_command("bootstrap_demo", stdout=after)
    assert password not in after.getvalue()
    assert "password was changed since bootstrap" in after.getvalue() and "changepassword admin" in after.getvalue()
    assert not (tmp_path / "admin-password.txt").exists()


@pytest.mark.django_db
def test_favicon_is_served_and_linked(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200 and response["Content-Type"] == "image/svg+xml"
    assert response.content.startswith(b"<svg")
    login_page = client.get("/accounts/login/").content.decode()
    assert '<link rel="icon" href="/static/labeling/favicon.svg"' in login_page
    assert client.get("/static/labeling/favicon.svg").status_code == 200
