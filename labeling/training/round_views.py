"""Staff pages of training rounds: the rounds table, launch form, live round page, curves, cancel/retry, exports.

The figures they show are computed in round_figures.py.
"""

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_POST

from labeling import charts
from labeling.corpus import exporters
from labeling.models import ModelKind, TrainingRound
from labeling.roles import permission_required, staff_required

from . import verdict_learning
from .engine import TERMINAL, RoundError, cancel_round, launch_round, reap_stale_steps, retry_round
from .forms import LaunchRoundForm
from .round_figures import (
    PRODUCT_FIGURES,
    flatten_config,
    product_table,
    round_costs,
    round_row,
    round_versions,
    sample_rewrites,
    scorer_test_metrics,
    scorer_vs_human,
    show,
    status_payload,
    step_histories,
)
from .round_metrics import round_metrics, why_nothing_queued

POLL_SECONDS = 2


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
    flat = [flatten_config(r.config) for r in rounds]
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


@permission_required("train_models")
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
        "nothing_queued": why_nothing_queued(training_round),
        "edit_verdicts": verdict_learning.summary_text(metrics.get("edit_verdicts")),
        "other": {
            k: v for k, v in metrics.items() if not isinstance(v, dict | list) and k not in dict(PRODUCT_FIGURES)
        },
    }


@staff_required
def round_detail(request, number: int):
    training_round = get_object_or_404(TrainingRound, number=number)
    status = status_payload(training_round)
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
    payload = status_payload(training_round)
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


@permission_required("train_models")
@require_POST
def round_cancel(request, number: int):
    training_round = get_object_or_404(TrainingRound, number=number)
    if training_round.status in TERMINAL:
        messages.error(request, f"{training_round} is {training_round.status}; there is nothing to cancel.")
    else:
        cancel_round(training_round)
        messages.success(request, f"{training_round}: cancel requested; it stops at the next safe point.")
    return redirect("round_detail", number=number)


@permission_required("train_models")
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
