"""Create a rater account (there is no open sign-up): `python manage.py create_rater alice --email a@example.org`."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from labeling.roles import create_rater


class Command(BaseCommand):
    help = "Create a rater account and print its temporary password."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--email", default="")
        parser.add_argument("--password", help="Default: a random one, printed once.")
        parser.add_argument(
            "--staff",
            action="store_true",
            help="Also let them see the staff pages; what they may change comes with role groups (Django admin).",
        )

    def handle(self, *args, username, email, password, staff, **options):
        if get_user_model().objects.filter(username=username).exists():
            raise CommandError(f"user {username!r} already exists")
        user, password = create_rater(username, email, password, staff=staff)
        self.stdout.write(self.style.SUCCESS(f"Rater {user.username} created. Password: {password}"))
