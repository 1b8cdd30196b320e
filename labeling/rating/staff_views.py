"""Staff pages of the rater workspace: batches and agreement, reviews, rater accounts, payouts.

The agreement page's charts are drawn by `labeling.charts` (matplotlib, loaded by the first such page, not at start-up)
as SVG inlined in the page, so the page needs no extra requests.
"""

from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.db.models import Count, Q, Sum
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_POST

from labeling import charts
from labeling.models import (
    LedgerEntry,
    PayoutPeriod,
    Rating,
    RatingBatch,
    RatingItem,
    ReviewStatus,
    StaffAction,
    StaffActionKind,
)
from labeling.roles import RATERS_GROUP, can, is_staff_member, permission_required, require, staff_required

from .accounts import (
    deactivate_rater,
    invite_rater,
    locked_out_logins,
    reactivate_rater,
    set_password_link,
    unlock_login,
)
from .actions import RatingRefused, approve_ratings, min_reading_seconds, reject_rating
from .agreement import agreement_report
from .payments import close_period, currency, payable_entries, payable_totals, payouts_csv

# ---------------------------------------------------------------- batches and agreement


def _scope(request) -> tuple[dict, str]:
    """Which ratings a page is about: ?batch=<id>, ?round=<number>, or all."""
    params = request.GET if request.method == "GET" else request.POST
    if params.get("batch", "").isdigit():
        batch = get_object_or_404(RatingBatch, pk=int(params["batch"]))
        return {"batch_id": batch.pk}, str(batch)
    if params.get("round", "").isdigit():
        return {"round_number": int(params["round"])}, f"Round {params['round']}"
    return {}, "All batches"


def _scoped_ratings(scope: dict):
    ratings = Rating.objects.all()
    if "batch_id" in scope:
        ratings = ratings.filter(item__batch_id=scope["batch_id"])
    if "round_number" in scope:
        ratings = ratings.filter(item__batch__training_round__number=scope["round_number"])
    return ratings


def _scope_query(scope: dict) -> str:
    if "batch_id" in scope:
        return f"?batch={scope['batch_id']}"
    if "round_number" in scope:
        return f"?round={scope['round_number']}"
    return ""


@require_GET
@staff_required
def staff_ratings(request):
    batches = RatingBatch.objects.select_related("training_round").annotate(
        n_items=Count("items", distinct=True),
        needed=Sum("items__ratings_needed"),
        done=Sum("items__ratings_done"),
        gold=Count("items", filter=Q(items__is_gold=True), distinct=True),
    )
    reviews = Rating.objects.values("review_status").annotate(n=Count("pk"))
    return render(
        request,
        "staff/ratings.html",
        {
            "batches": batches,
            "reviews": {row["review_status"]: row["n"] for row in reviews},
            "skips": RatingItem.objects.filter(assignments__status="skipped")
            .values("assignments__skip_reason")
            .annotate(n=Count("pk"))
            .order_by("-n"),
        },
    )


@dataclass(frozen=True)
class PendingReview:
    """What "Approve all pending" would do to some ratings: approve `approvable`, leave the rest for a look."""

    total: int
    held: int  # rated faster than the pair's minimum reading time: unpaid until approved, one by one
    own: int  # the reviewer's own: another reviewer approves them

    @property
    def approvable(self) -> int:
        return self.total - self.held - self.own

    def prompt(self) -> str:
        """The confirmation the approve button asks, with the counts."""
        parts = [f"Approve {self.approvable} pending rating{'s' if self.approvable != 1 else ''}?"]
        if self.held:
            parts.append(
                f"{self.held} held for review (rated faster than the minimum reading time) are left out: "
                "approve or reject them one by one."
            )
        if self.own:
            parts.append(f"{self.own} of your own are left for another reviewer.")
        return " ".join(parts)


def pending_review(ratings, reviewer) -> PendingReview:
    pending = ratings.filter(review_status=ReviewStatus.PENDING)
    own = pending.filter(rater=reviewer)
    return PendingReview(pending.count(), pending.exclude(rater=reviewer).filter(held=True).count(), own.count())


@require_GET
@staff_required
def staff_agreement(request):
    scope, title = _scope(request)
    report = agreement_report(**scope)
    review = pending_review(_scoped_ratings(scope), request.user)
    held = (
        _scoped_ratings(scope)
        .filter(review_status=ReviewStatus.PENDING, held=True)
        .select_related("rater", "item")
        .order_by("submitted_at")
    )
    spread = sorted(report.consensus, key=lambda row: -row.spread)
    return render(
        request,
        "staff/agreement.html",
        {
            "title": title,
            "report": report,
            "scope_query": _scope_query(scope),
            "scope": scope,
            "pending": review.total,
            "approve_prompt": review.prompt(),
            "can_review": can(request.user, "review_ratings"),
            "held": held,
            "min_seconds": {
                "base": min_reading_seconds(0),
                "per_change": min_reading_seconds(1) - min_reading_seconds(0),
            },
            "histogram": mark_safe(charts.band_histogram_svg(report.bands_original, report.bands_rewrite)),
            "scatter": mark_safe(charts.gold_scatter_svg(report.gold_points)),
            "disputed": [row for row in spread if row.provisional_n >= 2][:25],
        },
    )


@require_POST
@permission_required("review_ratings")
def staff_review(request):
    """Approve the pending ratings in a scope (optionally of one rater), or reject one rater's ratings in it.

    A bulk approval leaves out ratings rated too fast (they need a look of their own) and the reviewer's own.
    """
    scope, _ = _scope(request)
    ratings = _scoped_ratings(scope)
    rater_id = request.POST.get("rater", "")
    if rater_id.isdigit():
        ratings = ratings.filter(rater_id=int(rater_id))
    action = request.POST.get("action")
    if action == "approve":
        review = pending_review(ratings, request.user)
        approved = approve_ratings(ratings.filter(held=False), request.user)
        left = [f"{n} {why}" for n, why in ((review.held, "held for review"), (review.own, "of your own")) if n]
        note = f" Left pending: {', '.join(left)}." if left else ""
        messages.success(request, f"Approved {approved} rating{'s' if approved != 1 else ''}.{note}")
    elif action == "reject" and rater_id.isdigit() and int(rater_id) == request.user.pk:
        messages.error(request, "You cannot review your own ratings: another reviewer has to.")
    elif action == "reject" and rater_id.isdigit():
        ids = list(ratings.exclude(review_status=ReviewStatus.REJECTED).values_list("pk", flat=True))
        n = sum(reject_rating(pk, request.user) for pk in ids)
        messages.success(request, f"Rejected {n} rating{'s' if n != 1 else ''}; their pay was reversed.")
    else:
        messages.error(request, "Unknown review action.")
    return redirect(reverse("staff_agreement") + _scope_query(scope))


def _back(request, default: str):
    """Back to the page the form was on (?next=, this site only), else `default`."""
    target = request.POST.get("next", "")
    safe = url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()})
    return redirect(target if target and safe else default)


@require_POST
@permission_required("review_ratings")
def staff_review_rating(request, pk):
    """Approve or reject one rating (the rater's page), a rating rated too fast included."""
    rating = get_object_or_404(Rating, pk=pk)
    action = request.POST.get("action", "reject")
    try:
        if rating.rater_id == request.user.pk:
            raise RatingRefused("You cannot review your own ratings: another reviewer has to.")
        if action == "approve":
            if approve_ratings(Rating.objects.filter(pk=pk), request.user):
                messages.success(request, f"Rating {pk} approved{' and paid' if rating.held else ''}.")
            else:
                messages.error(request, f"Rating {pk} is {rating.get_review_status_display()}: not approved.")
        else:
            reject_rating(rating.pk, request.user)
            reversed_or_not = "nothing was paid" if rating.held else "its pay was reversed"
            messages.success(request, f"Rating {pk} rejected; {reversed_or_not}.")
    except RatingRefused as refused:
        messages.error(request, str(refused))
    return _back(request, reverse("staff_rater_detail", args=[rating.rater_id]))


# ---------------------------------------------------------------- raters


class RaterForm(forms.Form):
    username = forms.RegexField(regex=r"^[\w.@+-]{3,150}$", help_text="Letters, digits and @.+-_ only.")
    email = forms.EmailField(required=False)

    def clean_username(self):
        username = self.cleaned_data["username"]
        if get_user_model().objects.filter(username__iexact=username).exists():
            raise forms.ValidationError("That username is taken.")
        return username


@staff_required
def staff_raters(request):
    """Rater accounts. Creating one shows, in this response only, a set-password link for staff to give the rater:
    no password is ever put in a page that can be reloaded or in a message (the message cookie is readable)."""
    form = RaterForm(request.POST or None)
    invited = None
    if request.method == "POST":
        require(request.user, "manage_raters")
        if form.is_valid():
            user = invite_rater(form.cleaned_data["username"], form.cleaned_data["email"], actor=request.user)
            invited = {"user": user, "link": set_password_link(request, user, actor=request.user)}
            form = RaterForm()
    raters = (
        get_user_model()
        .objects.filter(groups__name=RATERS_GROUP)
        .annotate(
            n_ratings=Count("ratings", distinct=True),
            n_rejected=Count("ratings", filter=Q(ratings__review_status=ReviewStatus.REJECTED), distinct=True),
        )
        .order_by("username")
    )
    balances = dict(
        LedgerEntry.objects.order_by().values("rater").annotate(total=Sum("amount")).values_list("rater", "total")
    )
    rows = [{"user": u, "earned": balances.get(u.pk, 0)} for u in raters]
    context = {
        "form": form,
        "rows": rows,
        "currency": currency(),
        "invited": invited,
        "can_manage": can(request.user, "manage_raters"),
        "lockouts": locked_out_logins(),
    }
    return render(request, "staff/raters.html", context)


@staff_required
def staff_rater_detail(request, pk):
    """One rater's ratings (approve or reject each), account actions, and what staff did about them."""
    rater = get_object_or_404(get_user_model(), pk=pk)
    link = None
    if request.method == "POST":
        require(request.user, "manage_raters")
        action = request.POST.get("action")
        if is_staff_member(rater) or rater.pk == request.user.pk:
            # A password link or a deactivation of a staff account from here would let a rater manager take it over.
            messages.error(request, "Staff accounts, and your own, are managed in the Django admin.")
        elif action == "deactivate":
            released = deactivate_rater(rater, actor=request.user)
            messages.success(request, f"{rater.username} deactivated; {released} open assignments released.")
        elif action == "reactivate":
            reactivate_rater(rater, actor=request.user)
            messages.success(request, f"{rater.username} can log in again.")
        elif action == "password_link":
            link = set_password_link(request, rater, actor=request.user)
        if link is None:
            return redirect("staff_rater_detail", pk=pk)
        rater.refresh_from_db()
    ratings = (
        Rating.objects.filter(rater=rater)
        .select_related("item__essay", "item__batch", "assignment")
        .annotate(verdicts=Count("edit_verdicts"))
        .order_by("-submitted_at")[:200]
    )
    context = {
        "rater": rater,
        "ratings": ratings,
        "history": StaffAction.objects.filter(rater=rater).select_related("actor", "rating")[:100],
        "link": link,
        "can_review": can(request.user, "review_ratings"),
        "can_manage": can(request.user, "manage_raters") and not is_staff_member(rater) and rater != request.user,
    }
    return render(request, "staff/rater_detail.html", context)


@require_POST
@permission_required("manage_raters")
def staff_unlock_login(request):
    kind, value = request.POST.get("kind", ""), request.POST.get("value", "")
    if kind in ("account", "address") and value:
        unlock_login(kind, value, actor=request.user)
        messages.success(request, f"Unlocked the {kind} {value}.")
    return redirect("staff_raters")


# ---------------------------------------------------------------- payouts


@permission_required("manage_payouts")
def staff_payouts(request):
    if request.method == "POST":
        period = close_period(user=request.user)
        if period is None:
            messages.error(request, "Nothing to pay: no period was closed.")
        else:
            messages.success(request, f"Closed the period: {period.payouts.count()} payouts.")
        return redirect("staff_payouts")
    upcoming = payable_totals(payable_entries(timezone.now()))
    names = dict(get_user_model().objects.filter(pk__in=[r["rater"] for r in upcoming]).values_list("pk", "username"))
    for row in upcoming:
        row["username"] = names[row["rater"]]
    periods = PayoutPeriod.objects.annotate(n=Count("payouts"), total=Sum("payouts__amount")).select_related(
        "closed_by"
    )
    money_actions = StaffAction.objects.filter(
        kind__in=[StaffActionKind.REJECT, StaffActionKind.CLOSE_PERIOD]
    ).select_related("actor", "rater")[:50]
    context = {"upcoming": upcoming, "periods": periods, "currency": currency(), "actions": money_actions}
    return render(request, "staff/payouts.html", context)


@require_GET
@permission_required("manage_payouts")
def staff_payout_csv(request, pk):
    period = get_object_or_404(PayoutPeriod, pk=pk)
    response = HttpResponse(payouts_csv(period), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="payouts-{period.ends_at:%Y%m%d-%H%M}.csv"'
    return response
