"""Training rounds and model versions: the scorer and the rewriter retrained from the raters' labels.

Owns: the round engine (`engine.py`: launch, claim, heartbeat, reap, retry, cancel) and what a step body gets
(`step_context.py`), the step bodies with the table the engine runs (`steps.py`), the Celery tasks that wire the
engine to the queues (`tasks.py`), scorer and rewriter workflows on the database (`scoring.py`, `rewriting.py`), the
scorer's calibration to this deployment's raters (`rater_calibration.py`), the edit verdict learnt from the raters'
per-change labels (`verdict_learning.py`), the reference figures on the held-out set that rounds reuse
(`held_out_cache.py`), a round's figures (`round_metrics.py`, `round_figures.py`), and the staff pages of rounds and
models (`round_views.py`, `forms.py` with `launch_checks.py`, `model_views.py`, `score_page.py`, `textdiff.py`).

May import: `labeling.models`, `labeling.roles`, `labeling.charts`, `labeling.corpus`, `labeling.rating` (to queue
pairs, and its `ratings_approved` signal), `aes_site.celery`, and `rl`. Only torch-free parts of `rl` at module
level: anything that loads torch, transformers, trl or peft (`rl.scorer`, `rl.rewriter`, `rl.training`, `rl.train_*`)
is imported inside the function that needs it, so the web process starts without them.

Dependencies run one way: views -> engine/workflows -> models; `tasks.py` -> engine (it wires the Celery dispatcher
into the engine; the engine never imports the tasks).
"""
