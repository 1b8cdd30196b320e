import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aes_site.settings")

# Each queue has its own worker (aes_site/devserver.py, README "Production"), so work on one never waits behind another:
# "gpu" for round steps that train or generate (a GPU machine when one exists), "scorer" for scorer trainings asked
# for on the Models page, "default" for the rest (round bookkeeping, the sweep, queueing pairs).
QUEUE_OF_PREFIX = {"gpu_": "gpu", "scorer_": "scorer"}

app = Celery("aes_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_routes = {f"labeling.tasks.{prefix}*": {"queue": queue} for prefix, queue in QUEUE_OF_PREFIX.items()}
app.autodiscover_tasks(["labeling.training"])


def queue_of(task_name: str) -> str:
    """The queue a task is routed to (names in labeling/training/tasks.py)."""
    short = task_name.removeprefix("labeling.tasks.")
    return next((queue for prefix, queue in QUEUE_OF_PREFIX.items() if short.startswith(prefix)), "default")
