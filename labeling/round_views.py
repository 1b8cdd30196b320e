"""Staff pages of training rounds: the rounds table, launch form, live round page, curves, cancel/retry, exports."""

from decimal import Decimal

from django.conf import settings
from django.contrib import messages
from django.db.models import Sum
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_POST

from . import charts, exporters
from .models import LedgerEntry, ModelKind, RoundStatus, TrainingRound
from .roles import staff_required
from .round_forms import LaunchRoundForm
from .round_metrics import round_metrics
from .rounds import STEP_SPECS, TERMINAL, RoundError, cancel_round, launch_round, reap_stale_steps, retry_round
from .scoring import consensus_human_labels
from .textdiff import word_diff

POLL_SECONDS = 2
LOG_TAIL_LINES = 8
SAMPLE_REWRITES = 6
# What the evaluate step reports per policy; the same figures for the baseline and the promoted rewriter.
PRODUCT_FIGURES = [
    ("m", "M"),
    ("harm_share", "harm share"),
    ("good_small_share", "good small edits"),
    ("mean_chars_changed", "mean chars changed"),
    ("n", "essays"),
]


# --- figures of one round ----------------------------------------------------------------------------------------


def _duration_seconds(training_round: TrainingRound) -> float | None:
    if not training_round.started_at:
        return None
    end = training_round.finished_at or timezone.now()
    return (end - training_round.started_at).total_seconds()


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h {minutes:02d}m" if hours else (f"{minutes}m {secs:02d}s" if minutes else f"{secs}s")


def scorer_test_metrics(version) -> dict:
    """A scorer version's test-set figures, whether stored under metrics['test'] or at the top level."""
    if version is None:
        return {}
    metrics = version.metrics or {}
    return metrics.get("test") if isinstance(metrics.get("test"), dict) else metrics


def round_versions(training_round: TrainingRound) -> dict:
    versions = {}
    for version in training_round.model_versions.order_by("-created_at"):
        versions.setdefault(version.kind, version)
    return versions


def round_costs() -> dict[int, Decimal]:
    """Rater pay so far per round number: earnings minus reversals in the ledger, for the round's rating items."""
    totals = (
        LedgerEntry.objects.filter(rating__item__batch__training_round__isnull=False)
        .values("rating__item__batch__training_round__number")
        .annotate(total=Sum("amount"))
    )
    return {row["rating__item__batch__training_round__number"]: row["total"] for row in totals}


def round_row(training_round: TrainingRound, costs: dict[int, Decimal]) -> dict:
    metrics = round_metrics(training_round)
    scorer = round_versions(training_round).get(ModelKind.SCORER)
    scorer_metrics = scorer_test_metrics(scorer)
    return {
        "round": training_round,
        "m": metrics.get("m"),
        "human_m": metrics.get("human_m"),
        "harm_share": metrics.get("harm_share"),
        "good_small_share": metrics.get("good_small_share"),
        "scorer_qwk": scorer_metrics.get("qwk"),
        "scorer_mae": scorer_metrics.get("mae"),
        "cost": costs.get(training_round.number),
        "duration": format_duration(_duration_seconds(training_round)),
        "overrides": training_round.config.get("overrides", []),
    }


def product_table(metrics: dict) -> list[dict]:
    """Rows new policy / baseline / promoted (scorer-judged) and human-judged, with the product figures present."""
    by_policy = metrics.get("by_policy") or {"new": {k: metrics[k] for k, _ in PRODUCT_FIGURES if k in metrics}}
    candidates = [
        ("new policy", by_policy.get("new")),
        ("few-shot baseline", by_policy.get("baseline")),
        ("promoted rewriter", by_policy.get("promoted")),
        ("new policy, human-judged", metrics.get("human")),
    ]
    rows = []
    for label, figures in candidates:
        if isinstance(figures, dict) and any(key in figures for key, _ in PRODUCT_FIGURES):
            rows.append({"label": label, "values": [figures.get(key) for key, _ in PRODUCT_FIGURES]})
    return rows


def step_rows(training_round: TrainingRound) -> list[dict]:
    now = timezone.now()
    rows = []
    for step in training_round.steps.all():
        done, total = step.progress_done, step.progress_total
        fraction = done / total if total else None
        eta = None
        if step.status == RoundStatus.RUNNING and step.started_at and total and 0 < done < total:
            elapsed = (now - step.started_at).total_seconds()
            eta = elapsed * (total - done) / done
        log_lines = step.log.rstrip("\n").splitlines()
        rows.append(
            {
                "name": step.name,
                "title": STEP_SPECS[step.name].title if step.name in STEP_SPECS else step.name,
                "status": step.status,
                "done": done,
                "total": total,
                "percent": None if fraction is None else round(100 * fraction, 1),
                "eta": format_duration(eta) if eta is not None else "",
                "attempts": step.attempts,
                "worker": step.worker,
                "log_tail": "\n".join(log_lines[-LOG_TAIL_LINES:]),
                "points": len(step.metrics.get("history", [])),
            }
        )
    return rows


def step_histories(training_round: TrainingRound) -> dict[str, list[dict]]:
    return {
        STEP_SPECS[step.name].title if step.name in STEP_SPECS else step.name: step.metrics["history"]
        for step in training_round.steps.all()
        if step.metrics.get("history")
    }


def curves_with_points(training_round: TrainingRound) -> list[str]:
    histories = step_histories(training_round)
    return [key for key in charts.CURVES if charts.curve_series(histories, key)]


def sample_rewrites(training_round: TrainingRound) -> list[dict]:
    """A few of the round's rewrites, those the guard let through first, with their word-level diffs."""
    rewrites = training_round.rewrites.select_related("essay__prompt").order_by("guard_applied", "-chars_changed")
    samples = []
    for rewrite in rewrites[:SAMPLE_REWRITES]:
        diff = word_diff(rewrite.essay.text, rewrite.text)
        samples.append(
            {"rewrite": rewrite, "diff": diff.html, "inserted": diff.words_inserted, "deleted": diff.words_deleted}
        )
    return samples


def scorer_vs_human(training_round: TrainingRound) -> list[dict]:
    """Scorer band beside the human consensus band for each text of the round that raters have rated."""
    human = consensus_human_labels(training_round.number)
    if not human:
        return []
    rows = []
    for rewrite in training_round.rewrites.order_by("essay_id"):
        for kind, key, scorer_band in (
            ("original", (rewrite.essay_id, None), rewrite.scorer_band_before),
            ("rewrite", (rewrite.essay_id, rewrite.pk), rewrite.scorer_band_after),
        ):
            if key in human and scorer_band is not None:
                rows.append(
                    {
                        "essay_id": rewrite.essay_id,
                        "kind": kind,
                        "scorer": float(scorer_band),
                        "human": human[key]["band"],
                        "ratings": human[key]["n"],
                        "error": float(scorer_band) - human[key]["band"],
                    }
                )
    return rows


def _status_payload(training_round: TrainingRound) -> dict:
    steps = step_rows(training_round)
    return {
        "number": training_round.number,
        "status": training_round.status,
        "terminal": training_round.status in TERMINAL,
        "error": training_round.error,
        "cancel_requested": training_round.cancel_requested,
        "duration": format_duration(_duration_seconds(training_round)),
        "steps": steps,
        # Grows with every recorded training point: the page reloads its curve pictures when it changes.
        "curve_version": sum(step["points"] for step in steps),
        "curves_with_points": curves_with_points(training_round),
    }


# --- pages -------------------------------------------------------------------------------------------------------


@staff_required
def rounds_table(request):
    rounds = TrainingRound.objects.select_related("created_by").prefetch_related("steps", "model_versions")
    costs = round_costs()
    rows = [round_row(r, costs) for r in rounds.order_by("-number")]
    return render(request, "rounds/table.html", {"rows": rows, "currency": settings.RATING_CURRENCY})


@staff_required
def rounds_compare(request):
    numbers = sorted({int(n) for n in request.GET.getlist("n") if n.isdigit()}, reverse=True)
    if len(numbers) < 2:
        messages.error(request, "Select at least two rounds to compare.")
        return redirect("rounds")
    rounds = list(TrainingRound.objects.filter(number__in=numbers).order_by("-number"))
    costs = round_costs()
    rows = [round_row(r, costs) for r in rounds]
    figures = [
        ("Status", [r.status for r in rounds]),
        ("Recipe", [r.recipe for r in rounds]),
        ("M (scorer)", [row["m"] for row in rows]),
        ("M (human)", [row["human_m"] for row in rows]),
        ("Harm share", [row["harm_share"] for row in rows]),
        ("Good small edits", [row["good_small_share"] for row in rows]),
        ("Scorer QWK", [row["scorer_qwk"] for row in rows]),
        ("Scorer MAE", [row["scorer_mae"] for row in rows]),
        ("Rater cost", [row["cost"] for row in rows]),
        ("Duration", [row["duration"] for row in rows]),
    ]
    # Settings that differ between the selected rounds, so a change in M can be traced to its cause.
    flat = [_flatten(r.config) for r in rounds]
    differing = sorted(k for k in set().union(*flat) if len({repr(f.get(k)) for f in flat}) > 1)
    settings_rows = [(key, [f.get(key) for f in flat]) for key in differing if key != "overrides"]
    return render(
        request,
        "rounds/compare.html",
        {
            "rounds": rounds,
            "figures": [(label, [show(v) for v in values]) for label, values in figures],
            "settings_rows": [(key, [show(v) for v in values]) for key, values in settings_rows],
        },
    )


def show(value) -> str:
    """A figure for a table cell: floats to 3 decimals, missing as a dash."""
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}" if value == 0 or abs(value) >= 0.01 else f"{value:.2g}"
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return str(value)


def _flatten(config: dict, prefix: str = "") -> dict:
    flat = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


@staff_required
def round_new(request):
    form = LaunchRoundForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            training_round = launch_round(form.cleaned_data["recipe"], form.config, user=request.user)
        except RoundError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"{training_round} launched.")
            return redirect("round_detail", number=training_round.number)
    return render(request, "rounds/new.html", {"form": form, "recipe_defaults": form.recipe_defaults()})


def _results_context(training_round: TrainingRound) -> dict:
    comparison = scorer_vs_human(training_round)
    return {
        "round": training_round,
        "samples": sample_rewrites(training_round),
        "comparison": comparison,
        "comparison_mae": sum(abs(row["error"]) for row in comparison) / len(comparison) if comparison else None,
        "versions": list(training_round.model_versions.order_by("kind", "-created_at")),
        "export_formats": export_formats(),
    }


def _metrics_context(training_round: TrainingRound) -> dict:
    metrics = round_metrics(training_round)
    scorer = round_versions(training_round).get(ModelKind.SCORER)
    return {
        "product_rows": product_table(metrics),
        "figure_names": [label for _, label in PRODUCT_FIGURES],
        "scorer": scorer,
        "scorer_metrics": scorer_test_metrics(scorer),
        "rewriter": round_versions(training_round).get(ModelKind.REWRITER),
        "other": {
            k: v for k, v in metrics.items() if not isinstance(v, dict | list) and k not in dict(PRODUCT_FIGURES)
        },
    }


@staff_required
def round_detail(request, number: int):
    training_round = get_object_or_404(TrainingRound, number=number)
    status = _status_payload(training_round)
    context = {
        **_results_context(training_round),
        "status": status,
        "metrics_html": render_to_string("rounds/_metrics.html", _metrics_context(training_round), request=request),
        "curves": list(charts.CURVES.items()),
        "curve_version": status["curve_version"],
        "poll_ms": POLL_SECONDS * 1000,
    }
    return render(request, "rounds/detail.html", context)


@staff_required
def round_status(request, number: int):
    """Polled by the round page every few seconds; also notices workers that died while staff watch."""
    reap_stale_steps()
    training_round = get_object_or_404(TrainingRound, number=number)
    payload = _status_payload(training_round)
    payload["metrics_html"] = render_to_string(
        "rounds/_metrics.html", _metrics_context(training_round), request=request
    )
    payload["results_html"] = render_to_string(
        "rounds/_results.html", _results_context(training_round), request=request
    )
    return JsonResponse(payload)


@staff_required
def round_curve(request, number: int, metric: str):
    if metric not in charts.CURVES:
        raise Http404("unknown curve")
    training_round = get_object_or_404(TrainingRound, number=number)
    series = charts.curve_series(step_histories(training_round), metric)
    png = charts.line_chart_png(series, charts.CURVES[metric])
    response = HttpResponse(png, content_type="image/png")
    response["Cache-Control"] = "no-store"
    return response


@staff_required
def round_comparison_chart(request, number: int):
    rows = scorer_vs_human(get_object_or_404(TrainingRound, number=number))
    png = charts.scatter_png(
        [row["human"] for row in rows],
        [row["scorer"] for row in rows],
        "Scorer vs human consensus",
        "human consensus band",
        "scorer band",
    )
    return HttpResponse(png, content_type="image/png")


@staff_required
@require_POST
def round_cancel(request, number: int):
    training_round = get_object_or_404(TrainingRound, number=number)
    if training_round.status in TERMINAL:
        messages.error(request, f"{training_round} is {training_round.status}; there is nothing to cancel.")
    else:
        cancel_round(training_round)
        messages.success(request, f"{training_round}: cancel requested; it stops at the next safe point.")
    return redirect("round_detail", number=number)


@staff_required
@require_POST
def round_retry(request, number: int):
    training_round = get_object_or_404(TrainingRound, number=number)
    try:
        retry_round(training_round)
    except RoundError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"{training_round} resumes from its first unfinished step.")
    return redirect("round_detail", number=number)


# --- exports -----------------------------------------------------------------------------------------------------


def export_formats() -> list[tuple[str, str]]:
    return [(name, export_format.description) for name, export_format in exporters.FORMATS.items()]


@staff_required
def round_export(request, number: int, fmt: str):
    training_round = get_object_or_404(TrainingRound, number=number)
    if fmt not in exporters.FORMATS:
        raise Http404("unknown export format")
    return exporters.export_response(fmt, round_number=training_round.number)
