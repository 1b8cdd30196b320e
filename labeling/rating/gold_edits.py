"""Gold on edits: a gold pair whose rewrite is the essay itself with one injected learner error.

The error comes from the corruption code of the SFT warm start (rl/corruptions.py), so the expected verdict of that
one change is known: the original is better. A rater's verdicts on these changes measure their accuracy on edits,
as the original's band on gold items measures their band accuracy. The pair looks like any other (most rewrites
change a few characters), pays the same and is judged the same way.
"""

import random

from django.conf import settings

from labeling.models import Essay, Preference, Rewrite
from rl.changes import pair_changes
from rl.corruptions import corrupt_sentence
from rl.edits import sentence_spans
from rl.reward import chars_changed

MIN_SENTENCE_WORDS = 6


def inject_error(text: str, rng: random.Random) -> tuple[str, dict] | None:
    """(the text with one learner error in one sentence, the gold edit) or None when no sentence can take one."""
    spans = [(start, end) for start, end in sentence_spans(text) if len(text[start:end].split()) >= MIN_SENTENCE_WORDS]
    rng.shuffle(spans)
    for start, end in spans:
        corrupted, kinds = corrupt_sentence(text[start:end], rng, max_errors=1)
        if not kinds:
            continue
        edited = text[:start] + corrupted + text[end:]
        changes = pair_changes(text, edited)
        if len(changes.changes) != 1:
            continue  # the error must be one change the rater sees and judges
        (change,) = changes.changes
        return edited, {
            "original_start": change.original[0],
            "original_end": change.original[1],
            "before": changes.before(change),
            "after": changes.after(change),
            "kind": kinds[0],
            "expected": Preference.ORIGINAL.value,
        }
    return None


def gold_edit_rewrite(essay: Essay, source: Rewrite, rng: random.Random) -> tuple[Rewrite, dict] | None:
    """A stored rewrite of `essay` with one injected error (in place of the model's `source` rewrite), or None."""
    injected = inject_error(essay.text, rng)
    if injected is None:
        return None
    text, gold_edit = injected
    rewrite = Rewrite.objects.create(
        essay=essay,
        text=text,
        generation={"gold_edit": gold_edit["kind"], "source": "rl.corruptions"},
        chars_changed=chars_changed(essay.text, text),
    )
    return rewrite, {**gold_edit, "source_rewrite": source.pk}


def gold_edit_share() -> float:
    return float(settings.RATING_GOLD_EDIT_SHARE)


def verdict_matches_gold(gold_edit: dict, original_start: int, original_end: int) -> bool:
    """Is the change at [original_start, original_end) of the original the item's gold edit?"""
    if not gold_edit:
        return False
    return original_start < gold_edit["original_end"] and gold_edit["original_start"] < original_end
