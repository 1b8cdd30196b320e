"""The corpus: essays and prompts in and out, and the labels attached to them.

Owns: importing the published datasets and the scorer format (`formats.py` reads and checks files, `importers.py`
stores them atomically, deduplicated), exporting labelled datasets (`exporters.py`: scorer CSV, JSONL, Parquet, TRL
preference pairs), and the human labels as training data (`labels.py`: approved ratings as band labels per text,
their consensus, preference pairs).

May import: `labeling.models`, `rl.text`. Nothing from `labeling.rating` or `labeling.training`, which build on it.
"""
