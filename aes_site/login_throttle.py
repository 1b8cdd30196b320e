"""Login throttling with django-axes (settings: AXES_*): the authentication backend and the client's address.

Staff see and unlock lockouts on the Raters page (labeling/rating/accounts.py).
"""

from axes.backends import AxesStandaloneBackend
from django.conf import settings


class LoginThrottleBackend(AxesStandaloneBackend):
    """Refuses a locked-out login on the web. Authentication without a request (a management command, the test
    client's login()) is not a web login attempt: nothing to throttle, so this backend stays out of it."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def client_ip(request) -> str:
    """The client's address: REMOTE_ADDR, or behind AES_TRUSTED_PROXY_COUNT proxies the address the first of them
    saw (the proxies append to X-Forwarded-For, so earlier entries are whatever the client claimed)."""
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if proxies and len(forwarded) >= proxies:
        return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "")
