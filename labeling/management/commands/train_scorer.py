from django.core.management.base import BaseCommand, CommandError

from labeling.training.scoring import train_scorer_version


class Command(BaseCommand):
    help = "Train a scorer version on the published train/val bands plus approved human ratings."

    def add_arguments(self, parser):
        parser.add_argument("--promote", action="store_true", help="Make the new version the one the product uses.")
        parser.add_argument("--no-human", action="store_true", help="Published bands only (for ablations).")
        parser.add_argument("--family", help="Scorer family (see rl.scorer.ScorerConfig).")

    def handle(self, *args, **options):
        overrides = {"family": options["family"]} if options["family"] else {}

        def progress(done, total, message=""):
            self.stdout.write(f"[{done}/{total}] {message}")

        try:
            version = train_scorer_version(overrides, progress=progress, include_human=not options["no_human"])
        except (ValueError, LookupError) as exc:
            raise CommandError(str(exc)) from exc
        test = version.metrics.get("test", {})
        self.stdout.write(
            self.style.SUCCESS(
                f"Created {version} (id {version.pk}) at {version.artifact_path}: "
                f"test QWK {test.get('qwk', float('nan')):.3f}, MAE {test.get('mae', float('nan')):.3f}, "
                f"trained on {version.data_snapshot}"
            )
        )
        if options["promote"]:
            version.promote(note="train_scorer --promote")
            self.stdout.write(self.style.SUCCESS(f"Promoted {version}."))
