"""The Score page's form and what it shows: a text is scored only when it can be an essay, and the band's
uncertainty is shown within the 0-9 scale."""

import re
from dataclasses import dataclass

from django import forms

MAX_ESSAY_CHARS = 20_000
MAX_QUESTION_CHARS = 2_000
MIN_ESSAY_WORDS = 50  # far below a Task 2 essay's 250: a shorter text is not an essay the scorer can judge
BAND_MIN, BAND_MAX = 0.0, 9.0


def word_count(text: str) -> int:
    return len(re.findall(r"\w+(?:['’-]\w+)*", text))


class ScoreEssayForm(forms.Form):
    # No max_length on the fields: it would put a maxlength on the textareas, and the browser would cut a long paste
    # silently; the page counts characters instead and the server says what is wrong.
    question = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    essay = forms.CharField(widget=forms.Textarea(attrs={"rows": 14, "data-max-chars": MAX_ESSAY_CHARS}))

    def clean_question(self):
        question = self.cleaned_data["question"]
        if len(question) > MAX_QUESTION_CHARS:
            raise forms.ValidationError(
                f"The question has {len(question):,} characters; the limit is {MAX_QUESTION_CHARS:,}. "
                "Nothing was scored."
            )
        return question

    def clean_essay(self):
        essay = self.cleaned_data["essay"]
        if len(essay) > MAX_ESSAY_CHARS:
            raise forms.ValidationError(
                f"The essay has {len(essay):,} characters; the limit is {MAX_ESSAY_CHARS:,} (a Task 2 essay has "
                "about 1,500-3,000). Nothing was scored: shorten it or paste one essay."
            )
        words = word_count(essay)
        if words < MIN_ESSAY_WORDS:
            raise forms.ValidationError(
                f"The text has {words} word{'s' if words != 1 else ''}: too short to be an essay (at least "
                f"{MIN_ESSAY_WORDS}; a Task 2 essay has 250 or more). Nothing was scored."
            )
        return essay


@dataclass(frozen=True)
class ShownBand:
    band: float
    uncertainty: float  # at most the width of the scale
    low: float
    high: float
    capped: bool  # the model's uncertainty reached past the scale


def shown_band(band: float, uncertainty: float) -> ShownBand:
    """The band and its range band ± uncertainty, both kept within 0-9."""
    band = min(max(band, BAND_MIN), BAND_MAX)
    shown = min(max(uncertainty, 0.0), BAND_MAX - BAND_MIN)
    low, high = max(BAND_MIN, band - uncertainty), min(BAND_MAX, band + uncertainty)
    return ShownBand(band, shown, low, high, capped=band - uncertainty < BAND_MIN or band + uncertainty > BAND_MAX)
