"""Roles: rater (the "raters" group), staff, and what each staff member may do (Django permissions in groups).

There is no open sign-up: staff create rater accounts (staff pages or `manage.py create_rater`).

A staff member (is_staff, or a member of any role group) sees the staff pages. What they may change is a permission
that a deployment hands out separately, through the role groups below (Django admin -> Users -> Groups): approving
and rejecting ratings, money, rater accounts and training are different people's jobs. Superusers may do everything.
Nobody approves or rejects their own ratings (labeling/rating/actions.py).
"""

import secrets
from functools import wraps

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import transaction

from labeling.models import StaffAction

RATERS_GROUP = "raters"

# Codename -> description, declared on StaffAction (the log of what staff did): `labeling.<codename>`.
PERMISSIONS = dict(StaffAction._meta.permissions)
# The groups a deployment gives to people; labeling/migrations/0004_ops_3_roles.py put existing staff in all of them.
ROLE_GROUPS = {
    "reviewers": ["review_ratings"],
    "payouts": ["manage_payouts"],
    "rater managers": ["manage_raters"],
    "trainers": ["train_models"],
}


def is_rater(user) -> bool:
    return user.is_authenticated and user.groups.filter(name=RATERS_GROUP).exists()


def is_staff_member(user) -> bool:
    if not (user.is_authenticated and user.is_active):
        return False
    return user.is_staff or user.is_superuser or user.groups.filter(name__in=ROLE_GROUPS).exists()


def can(user, codename: str) -> bool:
    """May this staff member do that (a codename of PERMISSIONS)? Superusers may do everything."""
    return is_staff_member(user) and user.has_perm(f"labeling.{codename}")


def role_of(user) -> str:
    if user.is_superuser:
        return "admin"
    if is_staff_member(user):
        return "staff"
    return "rater" if is_rater(user) else "none"


def make_rater(user) -> None:
    group, _ = Group.objects.get_or_create(name=RATERS_GROUP)
    user.groups.add(group)


def ensure_role_groups(**kwargs) -> None:
    """The role groups with their permissions (after every migrate and test flush: post_migrate, apps.py)."""
    content_type = ContentType.objects.get_for_model(StaffAction)
    for name, codenames in ROLE_GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        for codename in codenames:
            permission, _ = Permission.objects.get_or_create(
                codename=codename, content_type=content_type, defaults={"name": PERMISSIONS[codename]}
            )
            group.permissions.add(permission)


def grant_roles(user, *groups: str) -> None:
    """Put a user in role groups (all of them when none are named)."""
    ensure_role_groups()
    user.groups.add(*Group.objects.filter(name__in=groups or list(ROLE_GROUPS)))


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


def require(user, codename: str) -> None:
    """403 unless this staff member holds the permission (a codename of PERMISSIONS)."""
    if not can(user, codename):
        raise PermissionDenied(f"You need the permission: {PERMISSIONS[codename].lower()}.")


def permission_required(codename: str):
    """Staff holding one permission of PERMISSIONS (a role group gives it); other staff and raters get 403."""

    def decorate(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            require(request.user, codename)
            return view(request, *args, **kwargs)

        return wrapped

    return decorate
