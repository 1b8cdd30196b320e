"""A round's figures for its pages: table rows, the product table, step progress, curves, sample rewrites, scorer
against human bands. Plain data; the views in round_views.py render it."""

from decimal import Decimal

from django.db.models import Sum
from django.utils import timezone

from labeling import charts
from labeling.corpus.labels import consensus_human_labels
from labeling.models import LedgerEntry, ModelKind, RoundStatus, TrainingRound

from .engine import STEP_SPECS, TERMINAL
from .round_metrics import round_metrics
from .textdiff import word_diff

LOG_TAIL_LINES = 8
SAMPLE_REWRITES = 6
# What the evaluate step reports per policy; the same figures for the baseline and the promoted rewriter.
PRODUCT_FIGURES = [
    ("m", "M"),
    ("half_band_m", "M at half bands"),
    ("verified_share", "changed sentences verified as fixes"),
    ("gleu", "GLEU (GEC set)"),
    ("harm_share", "harm share"),
    ("good_small_share", "good small edits"),
    ("mean_chars_changed", "mean chars changed"),
    ("n", "essays"),
]


# --- figures of one round ----------------------------------------------------------------------------------------


def duration_seconds(training_round: TrainingRound) -> float | None:
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
    """A scorer version's test-set figures (metrics['test']); none for a scorer trained without test essays."""
    test = (version.metrics or {}).get("test") if version else None
    return test if isinstance(test, dict) else {}


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
        "duration": format_duration(duration_seconds(training_round)),
        "overrides": training_round.config.get("overrides", []),
    }


def product_table(metrics: dict) -> list[dict]:
    """Rows new policy / baseline / promoted (scorer-judged) and human-judged, with the product figures present."""
    by_policy = metrics.get("by_policy") or {}
    candidates = [
        ("new policy", by_policy.get("new")),
        ("few-shot baseline", by_policy.get("baseline")),
        ("promoted rewriter", by_policy.get("promoted")),
        ("new policy, human-judged", metrics.get("human")),
    ]
    # Where the reference policies' figures came from: computed by this round, or reused from an earlier one.
    sources = {"few-shot baseline": "baseline", "promoted rewriter": "promoted"}
    rows = []
    for label, figures in candidates:
        if isinstance(figures, dict) and any(key in figures for key, _ in PRODUCT_FIGURES):
            source = (metrics.get("sources") or {}).get(sources.get(label, ""))
            rows.append(
                {
                    "label": f"{label} ({source})" if source else label,
                    "values": [figures.get(key) for key, _ in PRODUCT_FIGURES],
                }
            )
    return rows


def step_rows(training_round: TrainingRound) -> list[dict]:
    now = timezone.now()
    rows = []
    for step in training_round.steps.all():
        done, total = step.progress_done, step.progress_total
        fraction = done / total if total else None
        eta = None
        measured = done - step.progress_base
        if step.status == RoundStatus.RUNNING and step.progress_since and measured > 0 and done < total:
            # The rate measured in this phase: items done since it began over the time they took.
            elapsed = (now - step.progress_since).total_seconds()
            eta = elapsed * (total - done) / measured
        log_lines = step.log.rstrip("\n").splitlines()
        rows.append(
            {
                "name": step.name,
                "title": STEP_SPECS[step.name].title if step.name in STEP_SPECS else step.name,
                "status": step.status,
                "reason": step.metrics.get("skipped_reason", "") if step.status == RoundStatus.SKIPPED else "",
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


def status_payload(training_round: TrainingRound) -> dict:
    steps = step_rows(training_round)
    return {
        "number": training_round.number,
        "status": training_round.status,
        "terminal": training_round.status in TERMINAL,
        "error": training_round.error,
        "cancel_requested": training_round.cancel_requested,
        "duration": format_duration(duration_seconds(training_round)),
        "steps": steps,
        # Grows with every recorded training point: the page reloads its curve pictures when it changes.
        "curve_version": sum(step["points"] for step in steps),
        "curves_with_points": curves_with_points(training_round),
    }


def show(value) -> str:
    """A figure for a table cell: floats to 3 decimals, missing as a dash."""
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}" if value == 0 or abs(value) >= 0.01 else f"{value:.2g}"
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return str(value)


def flatten_config(config: dict, prefix: str = "") -> dict:
    flat = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten_config(value, f"{name}."))
        else:
            flat[name] = value
    return flat
