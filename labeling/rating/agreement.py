"""How far raters agree: Krippendorff's alpha (interval), QWK between raters, consensus bands, per-rater quality.

A "unit" is one text (an original essay or one rewrite); its values are the bands different raters gave it. The pure
functions take plain numbers; `agreement_report` reads the ratings (rejected ones excluded) from the database: alpha,
QWK and the rater checks count pending ratings too (a reviewer needs them before approving), while a text's consensus
band is the product's one (labels.consensus_band over approved ratings only) with a "provisional" band beside it that
also counts pending ratings.
Per-edit agreement has units too: one change of a rewrite, whose values are the raters' verdicts on it (nominal).
"""

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations

from django.db.models import Sum

from labeling.corpus.edit_labels import EditRow, edit_rows
from labeling.corpus.labels import consensus_band
from labeling.models import EditVerdict, Rating, RatingItem, ReviewStatus
from rl.metrics import quadratic_weighted_kappa

TextKey = tuple[int, int | None]  # (essay_id, rewrite_id or None for the original)


def krippendorff_alpha_interval(units: Iterable[Sequence[float]]) -> float | None:
    """Alpha with the interval metric (squared difference); units with fewer than two values are not pairable.

    alpha = 1 - D_o / D_e, D_o = 1/n sum_u sum_{i!=j in u} (v_i - v_j)^2 / (m_u - 1),
    D_e = 1/(n (n-1)) sum_{i!=j over all pairable values} (v_i - v_j)^2.  None when it is undefined.
    """
    pairable = [list(map(float, u)) for u in units if len(u) >= 2]
    values = [v for u in pairable for v in u]
    n = len(values)
    if n < 2:
        return None
    observed = sum(2 * sum((a - b) ** 2 for a, b in combinations(u, 2)) / (len(u) - 1) for u in pairable) / n
    # sum over ordered pairs of (a - b)^2 = 2 n sum v^2 - 2 (sum v)^2
    total, total_sq = sum(values), sum(v * v for v in values)
    expected = (2 * n * total_sq - 2 * total * total) / (n * (n - 1))
    if expected == 0:
        return 1.0 if observed == 0 else None
    return 1.0 - observed / expected


def krippendorff_alpha_nominal(units: Iterable[Sequence[str]]) -> float | None:
    """Alpha with the nominal metric (two values agree or not); None when it is undefined.

    alpha = 1 - D_o / D_e, D_o = 1/n sum_u (ordered pairs in u that differ) / (m_u - 1),
    D_e = 1/(n (n-1)) sum over ordered pairs of values (over all pairable values) that differ.
    """
    pairable = [list(u) for u in units if len(u) >= 2]
    values = [v for u in pairable for v in u]
    n = len(values)
    if n < 2:
        return None
    observed = sum(2 * sum(a != b for a, b in combinations(u, 2)) / (len(u) - 1) for u in pairable) / n
    counts = Counter(values)
    expected = (n * n - sum(c * c for c in counts.values())) / (n * (n - 1))
    if expected == 0:
        return 1.0 if observed == 0 else None
    return 1.0 - observed / expected


def pairwise_agreement(units: Iterable[Sequence[str]]) -> float | None:
    """Share of pairs of raters of the same unit who gave the same value."""
    pairs = [a == b for u in units for a, b in combinations(u, 2)]
    return sum(pairs) / len(pairs) if pairs else None


def pairwise_qwk(units: Iterable[Sequence[float]]) -> float | None:
    """Quadratic weighted kappa over every pair of raters of the same text, both orders (rater order is arbitrary)."""
    first, second = [], []
    for u in units:
        for a, b in combinations(u, 2):
            first += [a, b]
            second += [b, a]
    if not first:
        return None
    return quadratic_weighted_kappa(first, second)


@dataclass(frozen=True)
class FlagThresholds:
    min_ratings: int = 5  # fewer ratings: no speed or same-band flags
    too_fast_seconds: float = 60.0  # median active seconds per pair (two essays, ~600 words)
    same_band_share: float = 0.8  # share of all a rater's bands on their most used band
    min_gold: int = 3
    gold_bias: float = 1.0  # |mean(rater - reference)| on gold originals
    gold_mae: float = 1.5
    gold_edit_accuracy: float = 0.6  # share of gold edits judged as expected


@dataclass
class RaterStats:
    rater_id: int
    username: str
    count: int = 0
    active_seconds: int = 0
    median_seconds: float | None = None
    gold_n: int = 0
    gold_mae: float | None = None
    gold_bias: float | None = None
    consensus_n: int = 0
    consensus_mae: float | None = None  # against the mean of the *other* raters of the same text
    top_band_share: float | None = None
    gold_edit_n: int = 0  # gold edits this rater gave a verdict on
    gold_edit_accuracy: float | None = None
    held: int = 0  # ratings held for review (faster than the minimum reading time)
    flags: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ConsensusRow:
    essay_id: int
    rewrite_id: int | None
    band: float | None  # the consensus: approved ratings only (None until one is approved)
    n: int  # approved ratings
    provisional: float  # the same mean over every non-rejected rating, pending ones included
    provisional_n: int
    spread: float  # max - min of the bands of the non-rejected ratings
    reference: float | None  # the trusted reference band of a gold original


@dataclass
class EditAgreement:
    edits: int  # changes with at least one verdict
    verdicts: int
    units: int  # changes with at least two verdicts
    pairwise: float | None  # share of pairs of raters of a change who gave the same verdict
    alpha: float | None  # Krippendorff's alpha, nominal
    disputed: list[EditRow]  # changes with at least two verdicts that are not all the same


@dataclass
class AgreementReport:
    items: int
    ratings_needed: int
    ratings_done: int
    alpha: float | None
    qwk: float | None
    units: int  # texts with at least two ratings
    consensus: list[ConsensusRow]
    raters: list[RaterStats]
    gold_points: list[tuple[float, float, str]]  # (reference, rater band, username)
    bands_original: list[float]
    bands_rewrite: list[float]
    edits: EditAgreement

    @property
    def progress(self) -> float:
        return self.ratings_done / self.ratings_needed if self.ratings_needed else 0.0


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _consensus_of(rated: list[tuple[int, float]], rater_weights: Mapping[int, float] | None) -> float | None:
    """consensus_band of (rater id, band) pairs, weighted by rater when weights are given; None for no pairs."""
    if not rated:
        return None
    weights = [rater_weights.get(rater_id, 1.0) for rater_id, _ in rated] if rater_weights else None
    return consensus_band([v for _, v in rated], weights)


def rater_flags(stats: RaterStats, thresholds: FlagThresholds) -> list[str]:
    flags = []
    if stats.count >= thresholds.min_ratings:
        if stats.median_seconds is not None and stats.median_seconds < thresholds.too_fast_seconds:
            flags.append("too fast")
        if stats.top_band_share is not None and stats.top_band_share >= thresholds.same_band_share:
            flags.append("always the same band")
    if stats.gold_n >= thresholds.min_gold and (
        abs(stats.gold_bias) >= thresholds.gold_bias or stats.gold_mae >= thresholds.gold_mae
    ):
        flags.append("drifts from gold")
    if stats.gold_edit_n >= thresholds.min_gold and stats.gold_edit_accuracy < thresholds.gold_edit_accuracy:
        flags.append("misjudges gold edits")
    return flags


def edit_agreement(ratings) -> EditAgreement:
    """Per-edit agreement over the verdicts of `ratings` (a Rating queryset)."""
    rows = edit_rows(EditVerdict.objects.filter(rating__in=ratings))
    units = [[name for name, count in row.votes.items() for _ in range(count)] for row in rows]
    disputed = [row for row in rows if row.n >= 2 and max(row.votes.values()) < row.n]
    return EditAgreement(
        edits=len(rows),
        verdicts=sum(row.n for row in rows),
        units=sum(1 for u in units if len(u) >= 2),
        pairwise=pairwise_agreement(units),
        alpha=krippendorff_alpha_nominal(units),
        disputed=sorted(disputed, key=lambda row: (max(row.votes.values()) / row.n, -row.n))[:25],
    )


def gold_edit_results(ratings) -> dict[int, list[bool]]:
    """rater id -> for each gold edit they judged: was the verdict the expected one?"""
    results: dict[int, list[bool]] = defaultdict(list)
    gold = EditVerdict.objects.filter(rating__in=ratings).exclude(gold_expected="")
    for rater_id, verdict, expected in gold.values_list("rating__rater_id", "verdict", "gold_expected"):
        results[rater_id].append(verdict == expected)
    return results


def agreement_report(
    batch_id: int | None = None,
    round_number: int | None = None,
    rater_weights: Mapping[int, float] | None = None,
    thresholds: FlagThresholds | None = None,
) -> AgreementReport:
    """Everything the staff agreement page shows, for one batch, one round, or all ratings."""
    thresholds = thresholds or FlagThresholds()
    items = RatingItem.objects.all()
    if batch_id is not None:
        items = items.filter(batch_id=batch_id)
    if round_number is not None:
        items = items.filter(batch__training_round__number=round_number)
    progress = items.aggregate(needed=Sum("ratings_needed"))
    done = sum(min(d, n) for d, n in items.values_list("ratings_done", "ratings_needed"))
    ratings = (
        Rating.objects.filter(item__in=items)
        .exclude(review_status=ReviewStatus.REJECTED)
        .select_related("rater", "item__essay")
        .order_by("pk")
    )

    by_text: dict[TextKey, list[tuple[int, float, bool]]] = defaultdict(list)  # (rater, band, approved)
    stats: dict[int, RaterStats] = {}
    seconds: dict[int, list[int]] = defaultdict(list)
    bands_given: dict[int, list[float]] = defaultdict(list)
    gold_errors: dict[int, list[float]] = defaultdict(list)
    gold_points, bands_original, bands_rewrite = [], [], []
    references: dict[TextKey, float] = {}
    for r in ratings:
        s = stats.setdefault(r.rater_id, RaterStats(r.rater_id, r.rater.username))
        s.count += 1
        s.active_seconds += r.active_seconds
        seconds[r.rater_id].append(r.active_seconds)
        original, rewrite = float(r.band_original), float(r.band_rewrite)
        approved = r.review_status == ReviewStatus.APPROVED
        by_text[(r.item.essay_id, None)].append((r.rater_id, original, approved))
        by_text[(r.item.essay_id, r.item.rewrite_id)].append((r.rater_id, rewrite, approved))
        bands_given[r.rater_id] += [original, rewrite]
        bands_original.append(original)
        bands_rewrite.append(rewrite)
        if r.item.is_gold and r.item.essay.band is not None:
            reference = float(r.item.essay.band)
            references[(r.item.essay_id, None)] = reference
            gold_errors[r.rater_id].append(original - reference)
            gold_points.append((reference, original, r.rater.username))

    consensus = []
    closeness: dict[int, list[float]] = defaultdict(list)
    for (essay_id, rewrite_id), entries in sorted(by_text.items(), key=lambda kv: (kv[0][0], kv[0][1] or 0)):
        values = [v for _, v, _ in entries]
        approved = [(rater_id, v) for rater_id, v, is_approved in entries if is_approved]
        consensus.append(
            ConsensusRow(
                essay_id,
                rewrite_id,
                band=_consensus_of(approved, rater_weights),
                n=len(approved),
                provisional=_consensus_of([(rater_id, v) for rater_id, v, _ in entries], rater_weights),
                provisional_n=len(values),
                spread=max(values) - min(values),
                reference=references.get((essay_id, rewrite_id)),
            )
        )
        if len(entries) >= 2:
            for i, (rater_id, value, _) in enumerate(entries):
                others = [v for j, (_, v, _) in enumerate(entries) if j != i]
                closeness[rater_id].append(abs(value - sum(others) / len(others)))

    gold_edits = gold_edit_results(ratings)
    held = Counter(ratings.filter(held=True, review_status=ReviewStatus.PENDING).values_list("rater_id", flat=True))
    for rater_id, s in stats.items():
        s.median_seconds = statistics.median(seconds[rater_id])
        errors = gold_errors.get(rater_id, [])
        s.gold_n = len(errors)
        s.gold_bias = _mean(errors)
        s.gold_mae = _mean([abs(e) for e in errors])
        s.consensus_n = len(closeness[rater_id])
        s.consensus_mae = _mean(closeness[rater_id])
        given = bands_given[rater_id]
        s.top_band_share = Counter(given).most_common(1)[0][1] / len(given)
        right = gold_edits.get(rater_id, [])
        s.gold_edit_n = len(right)
        s.gold_edit_accuracy = _mean([float(r) for r in right])
        s.held = held.get(rater_id, 0)
        s.flags = rater_flags(s, thresholds)

    units = [[v for _, v, _ in entries] for entries in by_text.values()]
    return AgreementReport(
        items=items.count(),
        ratings_needed=progress["needed"] or 0,
        ratings_done=done,
        alpha=krippendorff_alpha_interval(units),
        qwk=pairwise_qwk(units),
        units=sum(1 for u in units if len(u) >= 2),
        consensus=consensus,
        raters=sorted(stats.values(), key=lambda s: (-len(s.flags), s.username)),
        gold_points=gold_points,
        bands_original=bands_original,
        bands_rewrite=bands_rewrite,
        edits=edit_agreement(ratings),
    )


def rater_gold_summary(rater, before=None) -> tuple[int, float | None, float | None]:
    """(gold ratings, MAE, bias) of one rater's non-rejected ratings on gold items (submitted before `before`)."""
    ratings = Rating.objects.filter(rater=rater, item__is_gold=True, item__essay__band__isnull=False).exclude(
        review_status=ReviewStatus.REJECTED
    )
    if before is not None:
        ratings = ratings.filter(submitted_at__lt=before)
    errors = [
        float(band) - float(reference) for band, reference in ratings.values_list("band_original", "item__essay__band")
    ]
    return len(errors), _mean([abs(e) for e in errors]), _mean(errors)


def rater_gold_edit_summary(rater, before=None) -> tuple[int, int]:
    """(gold edits judged, judged as expected) over one rater's non-rejected ratings (submitted before `before`)."""
    ratings = Rating.objects.filter(rater=rater).exclude(review_status=ReviewStatus.REJECTED)
    if before is not None:
        ratings = ratings.filter(submitted_at__lt=before)
    results = gold_edit_results(ratings).get(rater.pk, [])
    return len(results), sum(results)
