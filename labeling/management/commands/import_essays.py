"""python manage.py import_essays PATH [--format F] [--split S] [--dry-run] [--skip-invalid]"""

import time

from django.core.management.base import BaseCommand, CommandError

from labeling.corpus.formats import FORMATS, ImportFileError
from labeling.corpus.importers import import_file
from labeling.models import Split


class Command(BaseCommand):
    help = (
        "Import essays from a CSV or JSONL file in one transaction. Formats (detected from the header when --format "
        "is absent): chillies, tfcs, duwuonline, scorer_csv, jsonl. Duplicates (same normalised text) are skipped. "
        "Any rejected row means nothing is imported, unless --skip-invalid."
    )

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--format", choices=list(FORMATS), help="Skip header detection.")
        parser.add_argument(
            "--split",
            choices=Split.values,
            help="Split for every essay (default: the file's split column for tfcs, else train; pool for duwuonline).",
        )
        parser.add_argument("--dry-run", action="store_true", help="Report what would be imported; write nothing.")
        parser.add_argument(
            "--skip-invalid", action="store_true", help="Import the valid rows even when some rows are rejected."
        )

    def handle(self, *args, **options):
        started = time.monotonic()
        try:
            summary = import_file(
                options["path"],
                fmt=options["format"],
                split=options["split"],
                dry_run=options["dry_run"],
                skip_invalid=options["skip_invalid"],
            )
        except ImportFileError as error:
            raise CommandError(f"{options['path']}: {error}") from None
        for rejected in summary.rejected:
            self.stderr.write(f"rejected {rejected}")
        if summary.aborted:
            raise CommandError(
                f"nothing imported: {len(summary.rejected)} of {summary.rows} rows rejected "
                f"(first: {summary.rejected[0]}); fix them or pass --skip-invalid"
            )
        style = self.style.WARNING if summary.rejected else self.style.SUCCESS
        self.stdout.write(style(f"{summary.line()} in {time.monotonic() - started:.1f}s"))
