"""Metrics as the JSON the database stores."""

import math


def json_safe(value):
    """Metrics as JSON that PostgreSQL's jsonb accepts: NaN/inf become None, numpy numbers plain floats."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
