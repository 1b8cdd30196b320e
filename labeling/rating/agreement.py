"""How far raters agree: Krippendorff's alpha (interval), QWK between raters, consensus bands, per-rater quality.

A "unit" is one text (an original essay or one rewrite); its values are the bands different raters gave it. The pure
functions take plain numbers; `agreement_report` reads the ratings (rejected ones excluded) from the database.
"""

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations

from django.db.models import Sum

from labeling.models import Rating, RatingItem, ReviewStatus
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


def consensus_band(values: Sequence[float], weights: Sequence[float] | None = None) -> float:
    """Mean band; with weights (rater reliability), the weighted mean."""
    if weights is None:
        return sum(values) / len(values)
    return sum(v * w for v, w in zip(values, weights, strict=True)) / sum(weights)


@dataclass(frozen=True)
class FlagThresholds:
    min_ratings: int = 5  # fewer ratings: no speed or same-band flags
    too_fast_seconds: float = 60.0  # median active seconds per pair (two essays, ~600 words)
    same_band_share: float = 0.8  # share of all a rater's bands on their most used band
    min_gold: int = 3
    gold_bias: float = 1.0  # |mean(rater - reference)| on gold originals
    gold_mae: float = 1.5


def too_fast(ratings, thresholds: FlagThresholds | None = None):
    """The ratings given in less active time than a pair takes to read: they need a look of their own."""
    return ratings.filter(active_seconds__lt=(thresholds or FlagThresholds()).too_fast_seconds)


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
    flags: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ConsensusRow:
    essay_id: int
    rewrite_id: int | None
    band: float
    n: int
    spread: float  # max - min of the raters' bands
    reference: float | None  # the trusted reference band of a gold original


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

    @property
    def progress(self) -> float:
        return self.ratings_done / self.ratings_needed if self.ratings_needed else 0.0


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


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
    return flags


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

    by_text: dict[TextKey, list[tuple[int, float]]] = defaultdict(list)
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
        by_text[(r.item.essay_id, None)].append((r.rater_id, original))
        by_text[(r.item.essay_id, r.item.rewrite_id)].append((r.rater_id, rewrite))
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
        values = [v for _, v in entries]
        weights = [rater_weights.get(rid, 1.0) for rid, _ in entries] if rater_weights else None
        consensus.append(
            ConsensusRow(
                essay_id,
                rewrite_id,
                consensus_band(values, weights),
                len(values),
                max(values) - min(values),
                references.get((essay_id, rewrite_id)),
            )
        )
        if len(entries) >= 2:
            for i, (rater_id, value) in enumerate(entries):
                others = [v for j, (_, v) in enumerate(entries) if j != i]
                closeness[rater_id].append(abs(value - sum(others) / len(others)))

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
        s.flags = rater_flags(s, thresholds)

    units = [[v for _, v in entries] for entries in by_text.values()]
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
