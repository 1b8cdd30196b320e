"""The rater's pages: home (waiting, today, earnings, gold agreement), the blinded pair, submit and skip.

A rater reaches an assignment only through its random token and only if it is theirs (404 otherwise). The page shows
the texts with their changes marked alike on both sides (pair_view.py), the question and word counts: never which
side is the rewrite, a model score, a reference band or another rater's answer.
"""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.db.models import Sum
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from labeling.models import Assignment, AssignmentStatus, FirstBatch, LedgerKind, Rating, ReviewStatus
from labeling.roles import rater_required
from rl.changes import PairChanges, pair_changes

from .actions import (
    CRITERIA,
    SKIP_REASONS,
    RatingAnswer,
    RatingRefused,
    min_reading_seconds,
    parse_band,
    side_texts,
    skip_assignment,
    submit_rating,
)
from .agreement import rater_gold_edit_summary, rater_gold_summary
from .assignment import available_items, claim_next, current_assignment
from .pair_view import pair_view
from .payments import earnings_of, pay_per_pair

# Gold agreement shown to raters is computed on ratings before today, so a change right after a submit cannot tell
# them that the pair they just rated was a gold item.
GOLD_MIN_SHOWN = 3
CRITERIA_SHORT = {"task_response": "TR", "coherence": "CC", "lexical": "LR", "grammar": "GRA"}


def band_field(required: bool) -> forms.CharField:
    return forms.CharField(required=required, max_length=4)


BETTER = [("A", "A is better"), ("same", "About the same"), ("B", "B is better")]


class RatingForm(forms.Form):
    band_a = band_field(required=True)
    band_b = band_field(required=True)
    better = forms.ChoiceField(choices=BETTER)
    comment = forms.CharField(required=False, max_length=4000)
    active_seconds = forms.IntegerField(required=False, min_value=0)

    def __init__(self, *args, criteria_enabled: bool = True, pair_changes: PairChanges | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.criteria_enabled = criteria_enabled
        self.pair_changes = pair_changes
        self.changes = len(pair_changes.changes) if pair_changes else 0
        if criteria_enabled:
            for side in "ab":
                for name in CRITERIA:
                    self.fields[f"{name}_{side}"] = band_field(required=False)
        # One optional verdict per change: edit_<index> = A, B or same.
        for index in range(self.changes):
            self.fields[f"edit_{index}"] = forms.ChoiceField(choices=[("", "")] + BETTER, required=False)

    def clean(self):
        data = super().clean()
        for name, value in list(data.items()):
            if (name.startswith("band_") or name.endswith(("_a", "_b"))) and value:
                try:
                    data[name] = parse_band(value)
                except ValueError as error:
                    self.add_error(name, str(error))
        return data

    def answer(self) -> RatingAnswer:
        data = self.cleaned_data
        criteria = {
            side: {name: data[f"{name}_{side}"] for name in CRITERIA if data.get(f"{name}_{side}")} for side in "ab"
        }
        return RatingAnswer(
            band_a=data["band_a"],
            band_b=data["band_b"],
            better=data["better"],
            criteria_a=criteria["a"] if self.criteria_enabled else {},
            criteria_b=criteria["b"] if self.criteria_enabled else {},
            comment=data.get("comment") or "",
            active_seconds=data.get("active_seconds") or 0,
            edit_verdicts={i: data[f"edit_{i}"] for i in range(self.changes) if data.get(f"edit_{i}")},
        )


def _start_of_today():
    return timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)


def _today(rater) -> dict:
    ratings = Rating.objects.filter(rater=rater, submitted_at__gte=_start_of_today())
    totals = ratings.aggregate(seconds=Sum("active_seconds"))
    return {"count": ratings.count(), "active_seconds": totals["seconds"] or 0}


def earned_line(rating: Rating) -> str:
    """What a rating earned, in words: "2.00", "2.00 (pending review)", "0.00 (2.00 reversed: rejected)"."""
    entries = {entry.kind: entry.amount for entry in rating.ledger_entries.all()}
    earned = entries.get(LedgerKind.EARNING)
    if earned is None:
        if rating.review_status == ReviewStatus.REJECTED:
            return "0.00 (rejected)"
        return "0.00 for now (held for review: paid once approved)"
    if LedgerKind.REVERSAL in entries:
        return f"{earned + entries[LedgerKind.REVERSAL]:.2f} ({earned:.2f} reversed: rejected)"
    return f"{earned:.2f}" + (" (pending review)" if rating.review_status == ReviewStatus.PENDING else "")


def first_pairs_in_preparation() -> bool:
    batch = FirstBatch.latest()
    return batch is not None and batch.progress()["running"]


def nothing_waiting_message() -> str:
    if first_pairs_in_preparation():
        return "Pairs are being prepared: the first ones appear here within minutes. Check again soon."
    return "Nothing is waiting for you right now. Thank you!"


@require_GET
@rater_required
def rater_home(request):
    rater = request.user
    gold_n, gold_mae, gold_bias = rater_gold_summary(rater, before=_start_of_today())
    edits_n, edits_right = rater_gold_edit_summary(rater, before=_start_of_today())
    recent = list(
        Rating.objects.filter(rater=rater).select_related("assignment").prefetch_related("ledger_entries")[:10]
    )
    context = {
        "current": current_assignment(rater),
        "waiting": (waiting := available_items(rater).count()),
        "preparing": not waiting and first_pairs_in_preparation(),
        "today": _today(rater),
        "earnings": earnings_of(rater),
        "pay_per_pair": pay_per_pair(),
        "gold": {"n": gold_n, "mae": gold_mae, "bias": gold_bias, "shown": gold_n >= GOLD_MIN_SHOWN},
        "gold_edits": {"n": edits_n, "right": edits_right, "shown": edits_n >= GOLD_MIN_SHOWN},
        "held": Rating.objects.filter(rater=rater, held=True, review_status=ReviewStatus.PENDING).count(),
        "recent": [(rating, earned_line(rating)) for rating in recent],
    }
    return render(request, "rating/home.html", context)


@require_POST
@rater_required
def rate_next(request):
    assignment = claim_next(request.user)
    if assignment is None:
        messages.info(request, nothing_waiting_message())
        return redirect("rater_home")
    return redirect("rate_assignment", token=assignment.token)


def _own_assignment(request, token) -> Assignment:
    return get_object_or_404(
        Assignment.objects.select_related("item__essay__prompt", "item__rewrite"), token=token, rater=request.user
    )


def _rating_form(assignment: Assignment, data=None) -> RatingForm:
    """The form of this pair: one optional verdict field per change of the pair."""
    changes = pair_changes(assignment.item.essay.text, assignment.item.rewrite.text)
    return RatingForm(data, criteria_enabled=settings.RATING_CRITERIA_ENABLED, pair_changes=changes)


def _render_pair(request, assignment: Assignment, form: RatingForm, status: int = 200):
    now = timezone.now()
    view = pair_view(form.pair_changes, assignment.rewrite_side)
    sides = []
    for key, text, html in zip("ab", side_texts(assignment), view.essays, strict=True):
        criteria = [
            {"name": name, "label": label, "short": CRITERIA_SHORT[name], "value": form[f"{name}_{key}"].value() or ""}
            for name, label in CRITERIA.items()
            if form.criteria_enabled
        ]
        sides.append(
            {
                "key": key,
                "label": key.upper(),
                "html": html,
                "words": len(text.split()),
                "band": form[f"band_{key}"].value() or "",
                "criteria": criteria,
            }
        )
    context = {
        "assignment": assignment,
        "question": assignment.item.essay.question,
        "sides": sides,
        "form": form,
        "criteria_enabled": form.criteria_enabled,
        "skip_reasons": SKIP_REASONS,
        "expired": assignment.expires_at <= now,
        "expires_in_seconds": max(0, int((assignment.expires_at - now).total_seconds())),
        "today": _today(request.user),
        "earnings": earnings_of(request.user),
        "pay_per_pair": pay_per_pair(),
        "min_seconds": min_reading_seconds(view.changes),
        "rows": view.rows,
        "changes": view.changes,
        "verdicts": [(i, form[f"edit_{i}"].value() or "") for i in range(view.changes)],
        "idle_seconds": 120,
    }
    return render(request, "rating/pair.html", context, status=status)


@require_GET
@rater_required
def rate_assignment(request, token):
    assignment = _own_assignment(request, token)
    if assignment.status != AssignmentStatus.RESERVED:
        # Back button after a submit or a skip: nothing left to do on this pair.
        messages.info(request, f"That pair is already {assignment.get_status_display()}.")
        return redirect("rater_home")
    return _render_pair(request, assignment, _rating_form(assignment))


def _after(request) -> HttpResponseRedirect:
    if request.POST.get("then") == "next":
        assignment = claim_next(request.user)
        if assignment is not None:
            return redirect("rate_assignment", token=assignment.token)
        messages.info(request, "That was the last pair waiting for you.")
    return redirect("rater_home")


@require_POST
@rater_required
def rate_submit(request, token):
    assignment = _own_assignment(request, token)
    form = _rating_form(assignment, request.POST)
    if assignment.status == AssignmentStatus.SUBMITTED:
        messages.info(request, "Already saved; nothing was stored twice.")
        return _after(request)
    if not form.is_valid():
        return _render_pair(request, assignment, form, status=400)
    try:
        outcome = submit_rating(assignment.pk, form.answer())
    except RatingRefused as refusal:
        messages.error(request, str(refusal))
        return redirect("rater_home")
    if outcome.created and outcome.rating.held:
        rating = outcome.rating
        messages.warning(
            request,
            f"Saved, and held for review: {rating.active_seconds} s is under this pair's minimum reading time of "
            f"{rating.min_seconds} s. It is paid once a reviewer approves it.",
        )
    elif outcome.created:
        amount = outcome.rating.ledger_entries.get().amount
        messages.success(request, f"Saved. +{amount} {settings.RATING_CURRENCY} (pending review).")
    else:
        messages.info(request, "Already saved; nothing was stored twice.")
    return _after(request)


@require_POST
@rater_required
def rate_skip(request, token):
    assignment = _own_assignment(request, token)
    reason = request.POST.get("reason", "")
    if reason not in SKIP_REASONS:
        messages.error(request, "Choose a reason to skip.")
        return redirect("rate_assignment", token=token)
    try:
        skip_assignment(assignment.pk, reason)
    except RatingRefused as refusal:
        messages.error(request, str(refusal))
        return redirect("rater_home")
    messages.info(request, f"Skipped ({SKIP_REASONS[reason].split(' (')[0].lower()}). Thanks for flagging it.")
    return _after(request)
