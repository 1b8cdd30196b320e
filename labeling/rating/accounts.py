"""Rater accounts as staff manage them, each change recorded as a StaffAction (who, when).

- A new rater gets no password from staff: the account has an unusable password and staff copy the rater a
  set-password link (Django's password-reset token), shown once in the page's response, never in a message cookie.
- Deactivating a rater logs them out and releases their open assignments to other raters; what they earned stays in
  the ledger and is paid with the next period.
- Logins locked out after repeated failures (django-axes, per account and per address) are unlocked here.
"""

from axes.models import AccessAttempt
from axes.utils import reset as reset_login_failures
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.db import transaction
from django.db.models import Max, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from labeling.models import Assignment, AssignmentStatus, StaffAction, StaffActionKind
from labeling.roles import make_rater


def set_password_link(request, user, actor) -> str:
    """An absolute link where the user chooses a password; it works once, for PASSWORD_RESET_TIMEOUT seconds."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    path = reverse("password_reset_confirm", args=[uid, default_token_generator.make_token(user)])
    StaffAction.objects.create(actor=actor, kind=StaffActionKind.PASSWORD_LINK, rater=user)
    return request.build_absolute_uri(path)


@transaction.atomic
def invite_rater(username: str, email: str, actor):
    """A rater account without a usable password (set_password_link gives them one)."""
    user = get_user_model().objects.create_user(username, email, password=None)
    make_rater(user)
    StaffAction.objects.create(actor=actor, kind=StaffActionKind.CREATE_RATER, rater=user)
    return user


@transaction.atomic
def deactivate_rater(rater, actor) -> int:
    """Log the rater out for good and give their open assignments back; returns how many were released."""
    now = timezone.now()
    get_user_model().objects.filter(pk=rater.pk).update(is_active=False)
    released = Assignment.objects.filter(rater=rater, status=AssignmentStatus.RESERVED, expires_at__gt=now).update(
        expires_at=now
    )
    StaffAction.objects.create(
        actor=actor, kind=StaffActionKind.DEACTIVATE, rater=rater, note=f"{released} open assignments released"
    )
    return released


@transaction.atomic
def reactivate_rater(rater, actor) -> None:
    get_user_model().objects.filter(pk=rater.pk).update(is_active=True)
    StaffAction.objects.create(actor=actor, kind=StaffActionKind.REACTIVATE, rater=rater)


def locked_out_logins() -> list[dict]:
    """Accounts and addresses at the failure limit within the cool-off: {"kind", "value", "failures", "last"}."""
    recent = AccessAttempt.objects.all()
    if settings.AXES_COOLOFF_TIME:
        recent = recent.filter(attempt_time__gte=timezone.now() - settings.AXES_COOLOFF_TIME)
    locked = []
    for kind, field in (("account", "username"), ("address", "ip_address")):
        rows = (
            recent.order_by()
            .values(field)
            .annotate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
            .filter(failures__gte=settings.AXES_FAILURE_LIMIT)
        )
        locked += [
            {"kind": kind, "value": row[field], "failures": row["failures"], "last": row["last"]} for row in rows
        ]
    return sorted(locked, key=lambda row: row["last"], reverse=True)


def unlock_login(kind: str, value: str, actor) -> None:
    """Clear the failures behind a lockout. An account's also clears the addresses it was tried from, which would
    otherwise keep its owner out."""
    addresses = set()
    if kind == "account":
        addresses = set(AccessAttempt.objects.filter(username=value).values_list("ip_address", flat=True))
        reset_login_failures(username=value)
    else:
        addresses = {value}
    for address in addresses:
        reset_login_failures(ip=address)
    rater = get_user_model().objects.filter(username=value).first() if kind == "account" else None
    StaffAction.objects.create(actor=actor, kind=StaffActionKind.UNLOCK, rater=rater, note=f"{kind} {value}")
