"""The rater workspace: handing out rating items, rating them, checking the raters, paying them.

Owns: queueing pairs as rating items (`batches.py`), assignment with reservations and K ratings per item
(`assignment.py`), submit/skip/approve/reject (`actions.py`), agreement and rater quality (`agreement.py`), the pay
ledger and payouts (`payments.py`), and their pages (`rater_views.py` for raters, `staff_views.py` for staff).

May import: `labeling.models`, `labeling.roles`, `labeling.corpus`, `rl.metrics`. Nothing from `labeling.training`:
training reads what raters produce through `labeling.corpus.labels`, and queues pairs through `batches.py`.
"""
