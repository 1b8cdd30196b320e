"""Staff pages of model versions: the list with promote / roll back, a scorer's evaluation page, scoring an essay."""

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from labeling import charts
from labeling.models import ModelKind, ModelVersion, Promotion, ScorerTraining
from labeling.roles import permission_required, staff_required

from .rater_calibration import label_count
from .round_figures import scorer_test_metrics
from .score_page import MAX_ESSAY_CHARS, ScoreEssayForm, shown_band
from .scorer_trainings import request_training, state_of
from .scoring import ScorerUnavailable, load_scorer_version
from .tasks import queue_scorer_training

# Headline figures of a scorer's test evaluation, in the order the pages show them.
SCORER_FIGURES = [
    ("qwk", "QWK"),
    ("mae", "MAE"),
    ("rmse", "RMSE"),
    ("pearson", "Pearson r"),
    ("within_0_5", "within 0.5"),
    ("within_1_0", "within 1.0"),
    ("n", "essays"),
]
REWRITER_FIGURES = [("m", "M"), ("harm_share", "harm share"), ("good_small_share", "good small edits")]


def headline(version: ModelVersion) -> list[tuple[str, object]]:
    if version.kind == ModelKind.SCORER:
        metrics, figures = scorer_test_metrics(version), SCORER_FIGURES
    else:
        # The evaluate step of a round stores its held-out figures under 'eval'.
        metrics, figures = (version.metrics or {}).get("eval") or {}, REWRITER_FIGURES
    return [(label, metrics[key]) for key, label in figures if key in metrics]


def _is_scalar(value) -> bool:
    return isinstance(value, int | float | str | bool) or value is None


@staff_required
def models_list(request):
    promoted_at = {}
    for promotion in Promotion.objects.order_by("at"):
        promoted_at[promotion.version_id] = promotion.at
    kinds = []
    labels_now = label_count()
    for kind, label in ModelKind.choices:
        versions = list(ModelVersion.objects.filter(kind=kind).select_related("training_round"))
        current = next((v for v in versions if v.is_promoted), None)
        rows = [
            {
                "version": v,
                "headline": headline(v),
                # Promoting a version older than the promoted one is a roll back.
                "action": "Roll back to this" if current and v.created_at < current.created_at else "Promote",
                "rater_calibration": v.rater_calibration_text(labels_now) if kind == ModelKind.SCORER else "",
            }
            for v in versions
        ]
        kinds.append({"kind": kind, "label": label, "rows": rows, "current": current})
    history = Promotion.objects.select_related("version", "previous", "user")[:100]
    latest = ScorerTraining.objects.select_related("version").first()
    training = state_of(latest) if latest else None
    return render(request, "models/list.html", {"kinds": kinds, "history": history, "training": training})


@permission_required("train_models")
@require_POST
def scorer_train(request):
    """Queue a scorer training (published bands + approved human ratings) on a worker; the Models page follows it.
    While one is queued or running, asking again (a double click) queues nothing more."""
    training, created = request_training(user=request.user, promote=request.POST.get("promote") == "on")
    if created:
        transaction.on_commit(lambda: queue_scorer_training(training))
    else:
        messages.info(request, f"A scorer training is already {state_of(training)['state']}: it is shown below.")
    return redirect("models")


@staff_required
def scorer_training_status(request, pk: int):
    training = get_object_or_404(ScorerTraining.objects.select_related("version"), pk=pk)
    return JsonResponse(state_of(training))


@permission_required("train_models")
@require_POST
def model_promote(request, pk: int):
    version = get_object_or_404(ModelVersion, pk=pk)
    previous = ModelVersion.promoted(version.kind)
    note = request.POST.get("note", "").strip()[:200]
    if not note and previous and previous.created_at > version.created_at:
        note = f"roll back from {previous.name}"
    version.promote(user=request.user, note=note)
    messages.success(request, f"{version.kind} {version.name} is now the promoted {version.kind}.")
    next_url = request.POST.get("next", "")
    if next_url and url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        return redirect(next_url)
    return redirect("models")


def _confusion(test: dict) -> tuple[list[str], list[list[int]]]:
    """Labels and counts (rows true, columns predicted) as rl.metrics.band_metrics stores them, cropped to the bands
    that occur."""
    stored = test.get("confusion_matrix")
    if not stored:
        return [], []
    labels = test["labels"]
    used = [i for i in range(len(stored)) if sum(stored[i]) or sum(row[i] for row in stored)]
    keep = range(min(used, default=0), max(used, default=len(stored) - 1) + 1)
    return [str(labels[i]) for i in keep], [[stored[i][j] for j in keep] for i in keep]


def _calibration_points(test: dict) -> list[tuple[float, float]]:
    """(true band, mean predicted band), read off the confusion matrix."""
    labels, matrix = _confusion(test)
    return [
        (float(band), sum(float(label) * count for label, count in zip(labels, counts, strict=True)) / sum(counts))
        for band, counts in zip(labels, matrix, strict=True)
        if sum(counts)
    ]


def _per_band_mae(test: dict) -> dict[str, float]:
    """True band -> MAE, from band_metrics' {band: {"n", "mae"}}."""
    return {band: float(row["mae"]) for band, row in (test.get("per_band_mae") or {}).items()}


# What a stored evaluation in a shape this code does not read raises: the pages say so instead of failing.
OLDER_SHAPE_ERRORS = (AttributeError, IndexError, KeyError, TypeError, ValueError)


def _evaluation(version: ModelVersion) -> dict:
    metrics = version.metrics or {}
    test = scorer_test_metrics(version)
    evaluation = {"headline": headline(version)}
    try:
        # The gaming report is stored beside 'test': {perturbation: {figure: value}}.
        perturbations = [
            {"name": name, "figures": figures} for name, figures in (metrics.get("perturbations") or {}).items()
        ]
        return evaluation | {
            "other": {k: v for k, v in {**metrics, **test}.items() if _is_scalar(v) and k not in dict(SCORER_FIGURES)},
            "has_calibration": bool(_calibration_points(test)),
            "per_band_mae": _per_band_mae(test),
            "has_confusion": bool(_confusion(test)[1]),
            "perturbations": perturbations,
            "perturbation_columns": sorted({k for row in perturbations for k in row["figures"]}),
        }
    except OLDER_SHAPE_ERRORS:
        return evaluation | {"older": True}


@staff_required
def model_detail(request, pk: int):
    version = get_object_or_404(ModelVersion.objects.select_related("training_round", "parent"), pk=pk)
    context = {
        "version": version,
        "promotions": version.promotions.select_related("user", "previous"),
        "evaluation": _evaluation(version) if version.kind == ModelKind.SCORER else None,
        "headline": headline(version),
        "scalars": {k: v for k, v in (version.metrics or {}).items() if _is_scalar(v)},
        "rater_calibration": version.rater_calibration_text(label_count()) if version.kind == ModelKind.SCORER else "",
    }
    return render(request, "models/detail.html", context)


@staff_required
def model_chart(request, pk: int, chart: str):
    version = get_object_or_404(ModelVersion, pk=pk, kind=ModelKind.SCORER)
    test = scorer_test_metrics(version)
    try:
        if chart == "calibration":
            title = "Calibration: mean predicted per true band"
            png = charts.mean_points_png(_calibration_points(test), title, "true band", "predicted")
        elif chart == "per_band_mae":
            png = charts.bar_chart_png(_per_band_mae(test), "MAE per true band", "MAE")
        elif chart == "confusion":
            png = charts.confusion_png(*_confusion(test))
        else:
            raise Http404("unknown chart")
    except OLDER_SHAPE_ERRORS as exc:
        raise Http404("figures from an older version: no chart") from exc
    return HttpResponse(png, content_type="image/png")


@staff_required
def score_essay(request):
    """Staff only: raters must never see a model's band.

    The promoted scorer is loaded on the first scoring request and kept for the life of the process
    (scoring.load_scorer_version), so the web process starts without torch and loads it at most once.
    """
    version = ModelVersion.promoted(ModelKind.SCORER)
    form = ScoreEssayForm(request.POST or None)
    prediction = None
    if request.method == "POST" and form.is_valid():
        if version is None:
            form.add_error(None, "No scorer is promoted yet: train one (python manage.py train_scorer --promote).")
        else:
            try:
                scorer = load_scorer_version(version)
            except ScorerUnavailable as exc:
                form.add_error(None, str(exc))
            else:
                predicted = scorer.predict([form.cleaned_data["question"]], [form.cleaned_data["essay"]])[0]
                prediction = shown_band(predicted.band, predicted.uncertainty)
    context = {"form": form, "version": version, "prediction": prediction, "max_chars": MAX_ESSAY_CHARS}
    context["rater_calibration"] = version.rater_calibration_text(label_count()) if version else ""
    return render(request, "models/score.html", context)
