"""Small builders shared by the rater-workspace tests: essays with rewrites queued as rating items, and raters."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from labeling.models import Essay, Prompt, Rating, Rewrite, Split, TrainingRound
from labeling.rating.actions import RatingAnswer, submit_rating
from labeling.rating.assignment import claim_next
from labeling.rating.batches import create_rating_items
from labeling.roles import create_rater

PASSWORD = "pw-for-tests-1"


def make_rewrites(n: int, round_number: int | None = 1, split: str = Split.POOL, band=None, tag: str = "e"):
    """n essays (each with a rewrite in the given round), distinct texts so deduplication keeps them all."""
    prompt, _ = Prompt.objects.get_or_create(text=f"Question {tag}: some people think cities should ban cars. Discuss.")
    training_round = None
    if round_number is not None:
        training_round, _ = TrainingRound.objects.get_or_create(number=round_number)
    rewrites = []
    for i in range(n):
        essay = Essay.objects.create(
            prompt=prompt,
            text=f"Essay {tag}-{round_number}-{i}. Cars is a big problem in many city and people must to think.",
            origin="test",
            split=split,
            band=Decimal(band) if band is not None else None,
        )
        rewrites.append(
            Rewrite.objects.create(
                essay=essay,
                text=f"Essay {tag}-{round_number}-{i}. Cars are a big problem in many cities and people must think.",
                training_round=training_round,
                chars_changed=12,
                scorer_band_before=Decimal("5.0"),
                scorer_band_after=Decimal("5.5"),
            )
        )
    return training_round, rewrites


def make_items(n: int, k: int = 2, round_number: int | None = 1, gold_share: float = 0.0, **kwargs):
    training_round, rewrites = make_rewrites(n, round_number=round_number, **kwargs)
    summary = create_rating_items(
        training_round, rewrites, k=k, gold_share=gold_share, name="" if training_round else f"batch-{n}-{k}"
    )
    return summary.batch


def make_pair(original: str, rewrite: str, k: int = 2):
    """One rating item (K = k) whose essay and rewrite have these texts."""
    item = make_items(1, k=k).items.get()
    item.essay.text, item.rewrite.text = original, rewrite
    item.essay.save()
    item.rewrite.save()
    return item


def screenshot(page, name: str) -> None:
    """Save what the browser shows to $AES_SCREENSHOT_DIR/<name>.png when that variable is set."""
    import os
    from pathlib import Path

    folder = os.environ.get("AES_SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=False)


def make_raters(n: int, prefix: str = "rater"):
    return [create_rater(f"{prefix}{i}", f"{prefix}{i}@example.org", PASSWORD)[0] for i in range(n)]


def rate_assignment(assignment, band_original, band_rewrite, verdicts=None, better="rewrite"):
    """Rate a claimed pair with answers given as original/rewrite (turned into the A/B the rater saw): `verdicts`
    maps a change index to "original", "rewrite" or "same". Returns the rating."""
    from labeling.rating.actions import RatingAnswer, submit_rating

    rewrite_side = assignment.rewrite_side
    original_side = "B" if rewrite_side == "A" else "A"
    side = {"rewrite": rewrite_side, "original": original_side, "same": "same"}
    bands = {rewrite_side: Decimal(str(band_rewrite)), original_side: Decimal(str(band_original))}
    answer = RatingAnswer(
        band_a=bands["A"],
        band_b=bands["B"],
        better=side[better],
        edit_verdicts={i: side[v] for i, v in (verdicts or {}).items()},
    )
    return submit_rating(assignment.pk, answer).rating


# Hand-made per-change verdicts: the question, a pair with three changes (one per sentence: goverment -> government,
# believes -> believe, is -> are) and a pair rated with bands only.
JUDGED_PAIRS = (
    "Should governments act on pollution?",
    "The goverment should act now. Many people believes it. Pollution is bad.",
    "The government should act now. Many people believe it. Pollution are bad.",
    "Cars is a problem in city. We must act.",
    "Cars are a problem in city. We must act.",
)


def rate_judged_pairs():
    """JUDGED_PAIRS rated by two raters (bands 6.0 / 6.5) and approved. The first pair is also judged change by change:
    change 1 accepted by both, change 2 a tie (rewrite / same), change 3 rejected by both. Returns the rewrites."""
    from labeling.models import Rating
    from labeling.rating.actions import approve_ratings
    from labeling.rating.assignment import claim_next

    question, original, rewrite, plain_original, plain_rewrite = JUDGED_PAIRS
    prompt = Prompt.objects.create(text=question)
    training_round = TrainingRound.objects.create(number=1)
    rewrites = []
    for before, after in [(original, rewrite), (plain_original, plain_rewrite)]:
        essay = Essay.objects.create(prompt=prompt, text=before, origin="test", split="pool")
        rewrites.append(Rewrite.objects.create(essay=essay, text=after, training_round=training_round, chars_changed=3))
    create_rating_items(training_round, rewrites, k=2, gold_share=0.0)
    verdicts = [{0: "rewrite", 1: "rewrite", 2: "original"}, {0: "rewrite", 1: "same", 2: "original"}]
    for rater, given in zip(make_raters(2), verdicts, strict=True):
        while (assignment := claim_next(rater)) is not None:
            judged = assignment.item.rewrite.text == rewrite
            rate_assignment(assignment, 6.0, 6.5, verdicts=given if judged else None)
    approve_ratings(Rating.objects.all(), reviewer=None)
    return rewrites


def judged_pairs_training_rows(sft_copies: int) -> tuple[list[tuple], list[tuple]]:
    """What SFT and DPO must get from rate_judged_pairs(): SFT (origin, message, completion) rows, sorted, and DPO
    (prompt messages, chosen, rejected) rows in order. The plain pair gives its changed sentence, the judged pair its
    accepted change (SFT, DPO) and its rejected change (DPO); the tied change gives nothing."""
    from rl.rewriter import sentence_messages

    question = JUDGED_PAIRS[0]
    government = "The goverment should => The government should"

    def shown(sentence: str) -> str:
        return sentence_messages(question, sentence)[-1]["content"]

    sft = [("rated", shown("Cars is a problem in city."), "Cars is a => Cars are a")] * sft_copies + [
        ("rated_edit", shown("The goverment should act now."), government)
    ] * sft_copies
    dpo = [
        (sentence_messages(question, "Cars is a problem in city."), "Cars is a => Cars are a", "OK"),
        (sentence_messages(question, "The goverment should act now."), government, "OK"),
        (sentence_messages(question, "Pollution is bad."), "OK", "Pollution is bad. => Pollution are bad."),
    ]
    return sorted(sft), dpo


def sft_rated_rows(examples) -> list[tuple]:
    """(origin, last prompt message, completion) of the rater-made SFT examples, sorted."""
    return sorted(
        (e["origin"], e["prompt"][-1]["content"], e["completion"][0]["content"])
        for e in examples
        if e["origin"] in {"rated", "rated_edit"}
    )


def dpo_rows(rows) -> list[tuple]:
    return [(row["prompt"], row["chosen"][0]["content"], row["rejected"][0]["content"]) for row in rows]


def rate_all(rater, seconds: int = 0) -> list[Rating]:
    """Rate every pair available to the rater (bands 6 and 6.5, B better), each after `seconds` of active reading."""
    answer = RatingAnswer(band_a=Decimal("6"), band_b=Decimal("6.5"), better="B", active_seconds=seconds)
    ratings = []
    while (assignment := claim_next(rater, now=timezone.now() - timedelta(seconds=seconds))) is not None:
        ratings.append(submit_rating(assignment.pk, answer).rating)
    return ratings
