import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aes_site.settings")

app = Celery("aes_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Training work needs a GPU machine when one exists: route it to the "gpu" queue (names: labeling/training/tasks.py).
app.conf.task_routes = {"labeling.tasks.gpu_*": {"queue": "gpu"}}
app.autodiscover_tasks(["labeling.training"])
