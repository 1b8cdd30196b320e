"""python manage.py export_dataset --format F --output PATH [--round N] [--split S]"""

from django.core.management.base import BaseCommand, CommandError

from labeling.corpus.exporters import FORMATS, export_dataset
from labeling.models import Split, TrainingRound


class Command(BaseCommand):
    help = (
        "Export the labelled essays: scorer_csv, jsonl, parquet (reference bands plus approved human band labels; with "
        "--round, that round's human labels only), "
        "dpo (TRL prompt/chosen/rejected pairs, Parquet), edits (the raters' per-change verdicts, CSV) or edits_dpo "
        "(TRL pairs per sentence from those verdicts, Parquet). Written atomically."
    )

    def add_arguments(self, parser):
        parser.add_argument("--format", required=True, choices=list(FORMATS))
        parser.add_argument("--output", required=True, help="File to write (replaced atomically).")
        parser.add_argument(
            "--round", type=int, dest="round_number", help="This round's human labels only (no reference bands)."
        )
        parser.add_argument("--split", choices=Split.values, help="Only essays of this split (default: all).")

    def handle(self, *args, **options):
        round_number = options["round_number"]
        if round_number is not None and not TrainingRound.objects.filter(number=round_number).exists():
            raise CommandError(f"there is no round {round_number}")
        try:
            count = export_dataset(options["format"], options["output"], round_number, options["split"])
        except OSError as error:
            raise CommandError(f"cannot write {options['output']}: {error}") from None
        self.stdout.write(self.style.SUCCESS(f"wrote {count} rows ({options['format']}) to {options['output']}"))
