from django.core.management.base import BaseCommand, CommandError

from labeling.models import ModelKind, ModelVersion
from labeling.training.jsonsafe import json_safe
from labeling.training.rewriting import rater_training_data
from labeling.training.scoring import promoted_scorer
from rl.config import RecipeError, load_recipe, stages_of
from rl.pipeline import run_recipe


class Command(BaseCommand):
    help = "Train the rewriter with a recipe (SFT, GRPO/RLOO against the promoted scorer, DPO on the raters' pairs)."

    def add_arguments(self, parser):
        parser.add_argument("--recipe", required=True, help="rl/recipes/X.yaml or a bare recipe name")
        parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="e.g. rl.beta=0.02")
        parser.add_argument("--promote", action="store_true", help="Make the new version the one the product uses.")

    def handle(self, *args, **options):
        try:
            config = load_recipe(options["recipe"], options["set"])
        except RecipeError as exc:
            raise CommandError(str(exc)) from exc
        stages = stages_of(config.stage)
        scorer = None
        if "rl" in stages:
            try:
                _, scorer = promoted_scorer()
            except LookupError as exc:
                raise CommandError(str(exc)) from exc
        pairs = passages = None
        if not config.dpo.pairs_csv and ("dpo" in stages or "sft" in stages):
            data = rater_training_data()  # SFT also learns the edits raters rated better
            pairs, passages = data.pairs, data.passages
            if "dpo" in stages and not pairs and not passages:
                raise CommandError("no preference pairs: raters have not rated any pair yet (or set dpo.pairs_csv)")

        def progress(logs: dict):
            shown = {k: round(v, 4) if isinstance(v, float) else v for k, v in logs.items()}
            self.stdout.write(f"  {shown}")

        result = run_recipe(config, scorer, progress, pairs=pairs, passages=passages)[-1]
        version = ModelVersion.objects.create(
            kind=ModelKind.REWRITER,
            name=f"rewriter {config.name} {result.output_dir.name}",
            artifact_path=str(result.output_dir),
            config=json_safe(config.to_dict()),
            metrics=json_safe({k: v for k, v in result.metrics.items() if k != "history"}),
            parent=ModelVersion.promoted(ModelKind.REWRITER),
        )
        self.stdout.write(self.style.SUCCESS(f"Created {version} (id {version.pk}) at {version.artifact_path}"))
        if options["promote"]:
            version.promote(note="train_rewriter --promote")
            self.stdout.write(self.style.SUCCESS(f"Promoted {version}."))
