"""Staff pages of the rater workspace: batches and agreement, reviews, rater accounts, payouts.

Charts are inline SVG drawn here (a few dozen shapes each), so the pages need no extra requests.
"""

from collections import Counter
from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.db.models import Count, Q, Sum
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET, require_POST

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

HALF_BANDS = [i / 2 for i in range(19)]
ORIGINAL_COLOUR, REWRITE_COLOUR = "#5b6478", "#2f5bea"


# ---------------------------------------------------------------- charts


@dataclass(frozen=True)
class Frame:
    """Plot area inside an SVG of width x height, with margins for axes."""

    width: int = 520
    height: int = 260
    left: int = 44
    right: int = 12
    top: int = 26
    bottom: int = 36

    def x(self, fraction: float) -> float:
        return self.left + fraction * (self.width - self.left - self.right)

    def y(self, fraction: float) -> float:
        return self.height - self.bottom - fraction * (self.height - self.top - self.bottom)


def _svg(frame: Frame, body: list[str], label: str) -> SafeString:
    return mark_safe(
        f'<svg viewBox="0 0 {frame.width} {frame.height}" role="img" aria-label="{escape(label)}" '
        f'style="width:100%;font:11px system-ui,sans-serif">' + "".join(body) + "</svg>"
    )


def band_histogram_svg(original: list[float], rewrite: list[float]) -> SafeString:
    """Grouped bars per half band: how often raters gave each band to originals and to rewrites."""
    frame = Frame()
    counts = [Counter(original), Counter(rewrite)]
    peak = max([1] + [c[b] for c in counts for b in HALF_BANDS])
    slot = 1 / len(HALF_BANDS)
    body = [f'<line x1="{frame.x(0)}" y1="{frame.y(0)}" x2="{frame.x(1)}" y2="{frame.y(0)}" stroke="#98a1b3"/>']
    for tick in range(0, peak + 1, max(1, peak // 4)):
        y = frame.y(tick / peak)
        body.append(f'<line x1="{frame.x(0)}" y1="{y}" x2="{frame.x(1)}" y2="{y}" stroke="#eef0f5"/>')
        body.append(f'<text x="{frame.left - 6}" y="{y + 4}" text-anchor="end" fill="#5b6478">{tick}</text>')
    for i, band in enumerate(HALF_BANDS):
        for j, (counter, colour) in enumerate(zip(counts, (ORIGINAL_COLOUR, REWRITE_COLOUR), strict=True)):
            n = counter[band]
            if n:
                x0 = frame.x(i * slot + slot * (0.1 + 0.4 * j))
                width = frame.x(slot * 0.4) - frame.x(0)
                y = frame.y(n / peak)
                body.append(
                    f'<rect x="{x0:.1f}" y="{y:.1f}" width="{width:.1f}" height="{frame.y(0) - y:.1f}" '
                    f'fill="{colour}"><title>band {band}: {n}</title></rect>'
                )
        if band == int(band):
            body.append(
                f'<text x="{frame.x((i + 0.5) * slot):.1f}" y="{frame.y(0) + 14}" text-anchor="middle" '
                f'fill="#5b6478">{int(band)}</text>'
            )
    body.append(
        f'<text x="{frame.x(0.5)}" y="{frame.height - 4}" text-anchor="middle" fill="#5b6478">band given</text>'
        f'<rect x="{frame.x(0.02)}" y="4" width="10" height="10" fill="{ORIGINAL_COLOUR}"/>'
        f'<text x="{frame.x(0.02) + 14}" y="13">originals ({len(original)})</text>'
        f'<rect x="{frame.x(0.27)}" y="4" width="10" height="10" fill="{REWRITE_COLOUR}"/>'
        f'<text x="{frame.x(0.27) + 14}" y="13">rewrites ({len(rewrite)})</text>'
    )
    return _svg(frame, body, "band distribution of originals and rewrites")


def gold_scatter_svg(points: list[tuple[float, float, str]]) -> SafeString:
    """Rater band (y) against the trusted reference band (x) on gold items; the diagonal is perfect agreement."""
    frame = Frame(width=360, height=300, left=40, bottom=40)
    lo, hi = 0.0, 9.0
    if points:
        values = [v for p in points for v in p[:2]]
        lo, hi = max(0.0, min(values) - 1.0), min(9.0, max(values) + 1.0)
    span = hi - lo or 1.0

    def fx(v: float) -> float:
        return frame.x((v - lo) / span)

    def fy(v: float) -> float:
        return frame.y((v - lo) / span)

    body = [
        f'<rect x="{frame.x(0)}" y="{frame.y(1)}" width="{frame.x(1) - frame.x(0)}" '
        f'height="{frame.y(0) - frame.y(1)}" fill="#fafbfd" stroke="#dde1ea"/>',
        f'<line x1="{fx(lo)}" y1="{fy(lo)}" x2="{fx(hi)}" y2="{fy(hi)}" stroke="#1e8e3e" stroke-dasharray="4 3"/>',
    ]
    tick = lo - lo % 1 + (1 if lo % 1 else 0)
    while tick <= hi:
        body.append(f'<text x="{fx(tick)}" y="{frame.y(0) + 14}" text-anchor="middle" fill="#5b6478">{tick:g}</text>')
        body.append(f'<text x="{frame.left - 6}" y="{fy(tick) + 4}" text-anchor="end" fill="#5b6478">{tick:g}</text>')
        tick += 1
    # Many points share a grid position: size encodes how many.
    stacked = Counter((reference, band) for reference, band, _ in points)
    raters = {}
    for reference, band, name in points:
        raters.setdefault((reference, band), set()).add(name)
    for (reference, band), n in stacked.items():
        who = escape(", ".join(sorted(raters[(reference, band)])))
        body.append(
            f'<circle cx="{fx(reference):.1f}" cy="{fy(band):.1f}" r="{3 + min(n, 9) ** 0.5 * 2:.1f}" '
            f'fill="{REWRITE_COLOUR}" fill-opacity=".55"><title>reference {reference}, rated {band}: {n} ({who})'
            f"</title></circle>"
        )
    body.append(
        f'<text x="{frame.x(0.5)}" y="{frame.height - 6}" text-anchor="middle" fill="#5b6478">reference band</text>'
        f'<text transform="translate(11 {frame.y(0.5)}) rotate(-90)" text-anchor="middle" fill="#5b6478">'
        f"rater band</text>"
    )
    if not points:
        body.append(f'<text x="{frame.x(0.5)}" y="{frame.y(0.5)}" text-anchor="middle">no gold ratings yet</text>')
    return _svg(frame, body, "rater band against reference band on gold items")


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
            "histogram": band_histogram_svg(report.bands_original, report.bands_rewrite),
            "scatter": gold_scatter_svg(report.gold_points),
            "disputed": [row for row in spread if row.n >= 2][:25],
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
