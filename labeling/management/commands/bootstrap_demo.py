"""Load the bundled essays once, make sure an admin account exists and queue the first batch (used by `make run`)."""

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from labeling.corpus.importers import import_bundled_demo
from labeling.models import Essay
from labeling.training import first_batch, tasks


class Command(BaseCommand):
    help = "Import the bundled demo essays (once) and create the admin account."

    def handle(self, *args, **options):
        if Essay.objects.exists():
            self.stdout.write(f"Demo data present ({Essay.objects.count()} essays); not importing again.")
        else:
            self.stdout.write("Importing the bundled essays ...")
            import_bundled_demo(stdout=self.stdout)

        batch = first_batch.start(send=tasks.queue_first_batch_essay)
        if batch is not None and batch.finished_at is None:
            progress = batch.progress()
            self.stdout.write(
                f"First batch: {progress['rewritten']}/{progress['total']} essays rewritten; the gpu worker rewrites "
                "the rest in the background and queues each changed pair for raters."
            )

        password_file = settings.DATA_DIR / "admin-password.txt"
        user_model = get_user_model()
        admin = user_model.objects.filter(username="admin").first()
        if admin is None:
            password = secrets.token_urlsafe(12)
            user_model.objects.create_superuser("admin", "admin@example.org", password)
            password_file.write_text(password + "\n")
            password_file.chmod(0o600)
        password = password_file.read_text().strip() if password_file.exists() else ""
        if password and admin is not None and not admin.check_password(password):
            # Changed since bootstrap: the file would only keep an old secret and mislead; it goes.
            password_file.unlink()
            password = ""
        if password:
            self.stdout.write(self.style.SUCCESS(f"Admin login: admin / {password}"))
        else:
            self.stdout.write(
                self.style.SUCCESS(
                    "Admin login: admin (its password was changed since bootstrap and is not shown; "
                    "forgotten? python manage.py changepassword admin)"
                )
            )
