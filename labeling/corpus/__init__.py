"""The corpus: essays and prompts in and out, and the labels attached to them.

Owns: importing the published datasets and the scorer format (`formats.py` reads and checks files, `importers.py`
stores them atomically, deduplicated), exporting labelled datasets (`exporters.py`: scorer CSV, JSONL, Parquet, TRL
preference pairs), and the human labels as training data (`labels.py`: approved ratings as band labels per text,
their consensus, preference pairs; `edit_labels.py`: the raters' per-change verdicts per change, as sentence-level
training data and as verdict-labelled edits).

May import: `labeling.models`, `rl.text`, `rl.task_type`, `rl.edit_verdicts`. Nothing from `labeling.rating` or
`labeling.training`, which build on it.
"""
