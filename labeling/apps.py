from django.apps import AppConfig


class LabelingConfig(AppConfig):
    name = "labeling"
    verbose_name = "IELTS essays, ratings and training"

    def ready(self):
        from django.db.models.signals import post_migrate

        from .roles import ensure_role_groups

        # Registers the Celery tasks and wires them into the round engine as its dispatcher, in the web process, the
        # workers and management commands alike (tasks need the app registry, hence here and not at import time).
        from .training import tasks  # noqa: F401

        # The role groups exist after every migrate (and every test database flush, which empties them).
        post_migrate.connect(ensure_role_groups, sender=self)
