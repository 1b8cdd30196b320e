"""The rater workspace: handing out rating items, rating them, checking the raters, paying them.

Owns: queueing pairs as rating items (`batches.py`) with gold edits (`gold_edits.py`), assignment with reservations
and K ratings per item (`assignment.py`), submit/skip/approve/reject with per-change verdicts and the hold for ratings
faster than the minimum reading time (`actions.py`), agreement and rater quality (`agreement.py`), the pay ledger and
payouts (`payments.py`), and their pages (`rater_views.py` for raters, `pair_view.py` for the marked changes of the
pair page, `staff_views.py` for staff).

May import: `labeling.models`, `labeling.roles`, `labeling.corpus`, `labeling.charts` (it loads matplotlib only when
it draws), and the torch-free `rl.metrics`, `rl.changes`, `rl.corruptions`, `rl.edits`, `rl.reward`. Nothing from
`labeling.training`: training reads what raters produce through `labeling.corpus.labels`, and queues pairs through
`batches.py`.
"""
