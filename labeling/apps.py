from django.apps import AppConfig


class LabelingConfig(AppConfig):
    name = "labeling"
    verbose_name = "IELTS essays, ratings and training"

    def ready(self):
        # Registers the Celery tasks and wires them into the round engine as its dispatcher, in the web process, the
        # workers and management commands alike (tasks need the app registry, hence here and not at import time).
        from .training import tasks  # noqa: F401
