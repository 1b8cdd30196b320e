"""Text helpers shared by the importers and the ML code."""

import hashlib
import json
import re
from decimal import Decimal, InvalidOperation

BAND_STEP = Decimal("0.5")


def normalise_text(text: str) -> str:
    """Case- and whitespace-insensitive form used to find duplicates."""
    return re.sub(r"\s+", " ", text).strip().lower()


def restore_capitals(text: str) -> str:
    """Capitals back at sentence starts and on the pronoun "I", for text a dataset lower-cased (names stay lower-case,
    and an abbreviation's full stop starts a sentence too: "e.g. The")."""
    text = re.sub(r"(?<![\w'.])i(?=['\s,;:!?]|$)", "I", text)
    return re.sub(r"(^\s*|[.!?]\s+)([a-z])", lambda m: m.group(1) + m.group(2).upper(), text)


def text_hash(text: str) -> str:
    return hashlib.sha256(normalise_text(text).encode("utf-8")).hexdigest()


def inputs_hash(inputs: dict) -> str:
    """A cache key for what a computation depends on: the same inputs, in any key order, give the same hash."""
    return hashlib.sha256(json.dumps(inputs, sort_keys=True, default=str).encode()).hexdigest()


class BandError(ValueError):
    """A band value that is not a valid IELTS band."""


def parse_band(raw) -> tuple[Decimal | None, bool]:
    """Parse a published band value.

    Returns (band, below_4). The raw chillies file has values like "6.5\\r\\r", "4\\n\\n\\r" and "<4";
    "<4" means only "below 4", so it is returned as (None, True), never as 4.0.
    Empty values are (None, False). Anything else that is not a band 0-9 in 0.5 steps raises BandError.
    """
    if raw is None:
        return None, False
    value = str(raw).strip()
    if value == "" or value.lower() in {"nan", "none", "null"}:
        return None, False
    if re.fullmatch(r"<\s*4(\.0)?", value):
        return None, True
    try:
        band = Decimal(value)
    except InvalidOperation:
        raise BandError(f"unparseable band {value!r}") from None
    if not band.is_finite() or band < 0 or band > 9:
        raise BandError(f"band {value} is outside 0-9")
    if band % BAND_STEP != 0:
        raise BandError(f"band {value} is not a multiple of 0.5")
    return band.quantize(Decimal("0.1")), False
