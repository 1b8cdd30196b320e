"""The one Django app (label "labeling"): every table, and the workflows grouped by domain in three packages.

- `models/`: every table (corpus, rating, training); imports nothing else of the project but `rl.text`.
- `corpus/`: essays in and out, and the human labels attached to them.
- `rating/`: the rater workspace (items, assignment, ratings, agreement, pay, their pages).
- `training/`: training rounds, scorer and rewriter versions, their pages and Celery tasks.
- Shared by the packages: `roles.py` (who may do what), `charts.py` (PNG charts); the app's own `views.py` (home,
  health check), `urls.py`, `admin.py`, `apps.py`, `context_processors.py`.

Dependencies run one way: training -> rating -> corpus -> models (tests/test_import_graph.py finds any circle).
"""
