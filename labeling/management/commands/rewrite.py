from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from labeling.rating.batches import create_rating_items
from labeling.training.rewriting import (
    DEFAULT_EVAL_ESSAYS,
    fresh_pool_essays,
    promoted_rewriter_version,
    rewriter_for,
    store_rewrites,
)
from labeling.training.scoring import promoted_scorer


class Command(BaseCommand):
    help = "Rewrite fresh pool essays with the promoted rewriter and queue the changed pairs for the raters."

    def add_arguments(self, parser):
        parser.add_argument("--essays", type=int, default=10, help="How many fresh pool essays (default 10).")
        parser.add_argument("--k", type=int, default=None, help="Ratings per pair (default AES_RATINGS_PER_ITEM).")
        parser.add_argument(
            "--held-out",
            type=int,
            default=DEFAULT_EVAL_ESSAYS,
            help="Pool essays kept aside for evaluation (default 20).",
        )
        parser.add_argument("--no-queue", action="store_true", help="Store the rewrites without queueing them.")

    def handle(self, *args, **options):
        try:
            _, scorer = promoted_scorer()
        except LookupError as exc:
            raise CommandError(str(exc)) from exc
        essays = list(fresh_pool_essays(options["essays"], held_out=options["held_out"]))
        if not essays:
            raise CommandError(
                "no fresh pool essays left: import more (python manage.py import_essays PATH --split pool)"
            )
        version = promoted_rewriter_version()
        self.stdout.write(f"Rewriting {len(essays)} essays with {version or 'the base model (few-shot)'} ...")
        rewriter = rewriter_for(version, scorer)
        rewrites = store_rewrites(essays, rewriter, version, progress=lambda d, t, m: self.stdout.write(f"  {m}"))
        changed = [r for r in rewrites if r.text != r.essay.text]
        self.stdout.write(
            f"Stored {len(rewrites)} rewrites: {len(changed)} changed, {len(rewrites) - len(changed)} kept as the "
            f"original by the guard; {rewriter.stats.tokens_per_s:.1f} tokens/s"
        )
        if changed and not options["no_queue"]:
            summary = create_rating_items(
                None, changed, k=options["k"], name=f"rewrite {timezone.now():%Y-%m-%d %H:%M:%S}"
            )
            self.stdout.write(self.style.SUCCESS(f"Queued {summary.items} pairs for raters in {summary.batch.name}."))
