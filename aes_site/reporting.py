"""Error reports that never show a password, including one inside a connection URL (DATABASE_URL, REDIS_URL,
CELERY_BROKER_URL ...), whose names match none of Django's hidden-setting patterns."""

import re
from pprint import pformat

from django.views.debug import SafeExceptionReporterFilter

# scheme://user:password@host -> the password part.
URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^:/@\s]*:)(?P<password>[^@\s]+)(?P<tail>@)", re.IGNORECASE)


def hide_url_passwords(text: str) -> str:
    substitute = SafeExceptionReporterFilter.cleansed_substitute
    return URL_PASSWORD.sub(lambda m: m["head"] + substitute + m["tail"], str(text))  # str(): lazy strings too


class Shown:
    """A local variable as the error page prints it (its repr), with URL passwords hidden."""

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return self.text


def without_url_passwords(value):
    if isinstance(value, str):
        return hide_url_passwords(value)
    try:
        text = pformat(value)
    except Exception:  # a repr that fails is shown by Django as it always is
        return value
    return Shown(hide_url_passwords(text)) if URL_PASSWORD.search(text) else value


class CredentialHidingFilter(SafeExceptionReporterFilter):
    """Django's filter, plus passwords inside URLs in settings and in the local variables of the traceback."""

    def cleanse_setting(self, key, value):
        value = super().cleanse_setting(key, value)
        return hide_url_passwords(value) if isinstance(value, str) else value

    def get_traceback_frame_variables(self, request, tb_frame):
        return [
            (name, without_url_passwords(value))
            for name, value in super().get_traceback_frame_variables(request, tb_frame)
        ]
