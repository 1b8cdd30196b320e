from django.core.management.base import BaseCommand, CommandError

from labeling.models import ModelKind, ModelVersion
from labeling.training.rater_calibration import fit_for_scorer
from labeling.training.scoring import ScorerUnavailable


class Command(BaseCommand):
    help = "Fit a scorer version's calibration to the raters' approved consensus bands (default: the promoted one)."

    def create_parser(self, prog_name, subcommand, **kwargs):
        # --version here is the scorer version's id, not Django's own --version (the framework's version number).
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser):
        parser.add_argument("--version", type=int, help="ModelVersion id of the scorer (default: the promoted one).")

    def handle(self, *args, **options):
        if options["version"] is not None:
            version = ModelVersion.objects.filter(pk=options["version"], kind=ModelKind.SCORER).first()
            if version is None:
                raise CommandError(f"no scorer version with id {options['version']}")
        else:
            version = ModelVersion.promoted(ModelKind.SCORER)
            if version is None:
                raise CommandError("no scorer is promoted yet: pass --version ID or run train_scorer --promote")
        try:
            stored = fit_for_scorer(version)
        except ScorerUnavailable as exc:
            raise CommandError(str(exc)) from exc
        if stored["form"] == "identity" and stored["n_labels"] < stored["min_labels"]:
            self.stdout.write(
                f"{version}: not yet calibrated: {stored['n_labels']} of {stored['min_labels']} labels needed."
            )
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"{version}: calibrated to raters ({stored['form']}): shift {stored['shift']:+.2f}, slope"
                f" {stored['slope']:.2f} on {stored['n_labels']} labels; MAE before {stored['mae_before']:.2f} ->"
                f" after {stored['mae_after']:.2f} (cross-validated)"
            )
        )
