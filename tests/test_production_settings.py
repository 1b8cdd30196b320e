"""Production is a profile: with DEBUG=false the site refuses to start on development defaults, `check --deploy`
finds nothing to warn about in a proper production environment, and no page shows a password inside a connection
URL (DATABASE_URL, REDIS_URL and Celery's copies match none of Django's hidden-setting names).

The settings are read in a fresh `manage.py` process each time, as a deployment starts.
"""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "aes.example.org",
    "CSRF_TRUSTED_ORIGINS": "https://aes.example.org",
}


def manage(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    # Not what the test process set for itself: the browser fixture's DJANGO_ALLOW_ASYNC_UNSAFE fails check --deploy.
    ignored = ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DJANGO_ALLOW_ASYNC_UNSAFE")
    base = {k: v for k, v in os.environ.items() if k not in ignored}
    base.update(AES_DATA_DIR=str(tmp_path), DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}", **env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=REPO, env=base, capture_output=True, text=True, timeout=300
    )


@pytest.mark.parametrize(
    "missing, message",
    [
        ({"SECRET_KEY": ""}, "SECRET_KEY must be set"),
        ({"SECRET_KEY": "dev-insecure-key-change-me-in-production"}, "SECRET_KEY must be set"),
        ({"SECRET_KEY": "too-short"}, "SECRET_KEY must be set"),
        ({"ALLOWED_HOSTS": ""}, "ALLOWED_HOSTS must name"),
    ],
)
def test_production_refuses_to_start_on_development_defaults(tmp_path, missing, message):
    result = manage(tmp_path, "check", **{**PRODUCTION, **missing})
    assert result.returncode != 0
    assert "DEBUG is false (production)" in result.stderr and message in result.stderr


def test_check_deploy_has_no_warning_in_a_production_environment(tmp_path):
    result = manage(tmp_path, "check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_development_still_starts_with_no_settings_at_all(tmp_path):
    result = manage(tmp_path, "check")
    assert result.returncode == 0, result.stderr


def use_connection_urls_with_passwords(settings) -> None:
    """Random passwords, made in a frame that is gone when the error page is drawn (its locals are not shown)."""
    settings.DATABASE_URL = f"postgres://aes:{secrets.token_hex(8)}@db.internal:5432/aes"
    settings.REDIS_URL = settings.CELERY_BROKER_URL = f"redis://:{secrets.token_hex(8)}@cache.internal:6379/0"
    settings.CELERY_RESULT_BACKEND = settings.REDIS_URL


def test_error_pages_never_show_a_password_inside_a_connection_url(rf, settings):
    from django.views.debug import technical_500_response

    settings.DEBUG = True
    use_connection_urls_with_passwords(settings)
    request = rf.get("/boom")
    try:
        broker = settings.CELERY_BROKER_URL  # a frame's local variable holding a URL, shown on the debug page
        raise ConnectionError(f"cannot reach the broker at {broker.split('@')[1]}")
    except ConnectionError:
        page = technical_500_response(request, *sys.exc_info()).content.decode()
    assert "cache.internal:6379" in page and "db.internal:5432" in page  # the URLs are there, for debugging
    for url in (settings.DATABASE_URL, settings.REDIS_URL):
        assert url.split("@")[0].rsplit(":", 1)[1] not in page
