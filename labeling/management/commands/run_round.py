import time

from django.core.management.base import BaseCommand, CommandError

from labeling.models import RoundStatus, TrainingRound
from labeling.training import engine
from labeling.training.forms import round_config_from_form
from rl.config import RecipeError


class Command(BaseCommand):
    help = "Run a training round from the shell: the same steps the browser launches."

    def add_arguments(self, parser):
        parser.add_argument("--recipe", required=True, help="A recipe YAML, e.g. rl/recipes/cpu-smoke.yaml")
        parser.add_argument(
            "--set",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="Override, e.g. rl.beta=0.02 or round.rewrite_essays=5",
        )
        parser.add_argument(
            "--via-celery",
            action="store_true",
            help="Queue the round for the Celery workers and wait, instead of running it here.",
        )

    def handle(self, *args, **options):
        try:
            config = round_config_from_form(options["recipe"], options["set"])
            training_round = engine.launch_round(
                config.get("name", options["recipe"]), config, dispatch=options["via_celery"]
            )
        except (RecipeError, engine.RoundError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{training_round} launched ({training_round.recipe}).")
        if options["via_celery"]:
            training_round = self.wait(training_round)
        else:
            training_round = engine.run_round_inline(training_round, echo=self.stdout.write)
        metrics = {k: v for k, v in training_round.metrics.items() if k != "by_policy"}
        self.stdout.write(f"{training_round}: {training_round.status} {metrics}")
        if training_round.status != RoundStatus.SUCCEEDED:
            raise CommandError(f"{training_round} {training_round.status}: {training_round.error}")

    def wait(self, training_round: TrainingRound) -> TrainingRound:
        seen = None
        while training_round.status not in engine.TERMINAL:
            engine.reap_stale_steps()
            time.sleep(2)
            training_round.refresh_from_db()
            current = training_round.steps.exclude(status__in=engine.DONE).order_by("order").first()
            if current and (current.name, current.status, current.progress_done) != seen:
                seen = (current.name, current.status, current.progress_done)
                self.stdout.write(
                    f"  {current.name}: {current.status} {current.progress_done}/{current.progress_total}"
                )
        return training_round
