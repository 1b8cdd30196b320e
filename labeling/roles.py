"""Roles: rater (member of the "raters" group), staff (is_staff), admin (superuser).

There is no open sign-up: staff create rater accounts (staff pages or `manage.py create_rater`).
"""

import secrets
from functools import wraps

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db import transaction

RATERS_GROUP = "raters"


def is_rater(user) -> bool:
    return user.is_authenticated and user.groups.filter(name=RATERS_GROUP).exists()


def is_staff_member(user) -> bool:
    return user.is_authenticated and user.is_active and user.is_staff


def role_of(user) -> str:
    if user.is_superuser:
        return "admin"
    if user.is_staff:
        return "staff"
    return "rater" if is_rater(user) else "none"


def make_rater(user) -> None:
    group, _ = Group.objects.get_or_create(name=RATERS_GROUP)
    user.groups.add(group)


@transaction.atomic
def create_rater(username: str, email: str = "", password: str | None = None, staff: bool = False):
    """Create an account in the raters group; returns (user, password) with a generated password if none given."""
    password = password or secrets.token_urlsafe(9)
    user = get_user_model().objects.create_user(username, email, password, is_staff=staff)
    make_rater(user)
    return user, password


def rater_required(view):
    """Logged in and in the raters group; anyone else gets 403."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not is_rater(request.user):
            raise PermissionDenied("Only raters can open this page.")
        return view(request, *args, **kwargs)

    return wrapped


def staff_required(view):
    """Logged in staff; raters and anyone else get 403 (not a redirect to the admin login)."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not is_staff_member(request.user):
            raise PermissionDenied("Staff only.")
        return view(request, *args, **kwargs)

    return wrapped
