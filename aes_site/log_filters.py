"""Logging filters named in settings.LOGGING."""

import logging

from django.core.exceptions import PermissionDenied


class PlainForbidden(logging.Filter):
    """Keep the one-line "Forbidden (Permission denied): /path" warning of a refused request, drop its traceback.

    A 403 is the site working as intended (a rater opening a staff page); a full traceback per refusal buries real
    errors in the log. Only PermissionDenied is stripped: every other exception keeps its traceback.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], PermissionDenied):
            record.exc_info = None
            record.exc_text = None
        return True
