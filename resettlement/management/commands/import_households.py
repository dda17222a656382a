"""``manage.py import_households FILE [--commit]``: the admin's import, from the command line.

A dry run by default: checks the file and prints what would change. ``--commit`` writes it in
one transaction. Exit status 0 when the file is clean (and, with ``--commit``, imported), 1 when
it has errors (nothing written), 2 for usage errors.
"""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ...models import ImportStatus
from ...services.imports import commit_batch, create_batch, max_bytes


class Command(BaseCommand):
    help = "Import households and members from a persons CSV (dry run unless --commit)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the CSV file (the /exports/persons.csv columns)")
        parser.add_argument("--commit", action="store_true", help="write the changes")
        parser.add_argument("--user", default="", help="username recorded as the importer")

    def handle(self, *args, file: str, commit: bool, user: str, **options) -> None:
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {file}", returncode=2)
        importer = None
        if user:
            importer = get_user_model().objects.filter(username=user).first()
            if importer is None:
                raise CommandError(f"No user named {user}", returncode=2)
        with path.open("rb") as handle:
            data = handle.read(max_bytes() + 1)
        batch = create_batch(data=data, file_name=path.name, user=importer)
        self._print_summary(batch.summary)
        if batch.status != ImportStatus.READY:
            self._print_errors(batch)
            raise CommandError(
                f"{batch.summary.get('error_count', len(batch.errors))} error(s); nothing written.",
                returncode=1,
            )
        if not commit:
            self.stdout.write("Dry run: nothing written. Run again with --commit to import.")
            return
        result = commit_batch(batch=batch, user=importer)
        if result is None:
            self.stdout.write("This file has already been imported; nothing written.")
            return
        if not result.committed:
            self._print_errors(batch)
            raise CommandError(f"{result.error_count} error(s); nothing written.", returncode=1)
        self.stdout.write(self.style.SUCCESS(f"Imported (batch {batch.pk})."))

    def _print_summary(self, summary: dict) -> None:
        if "rows" not in summary:
            return
        self.stdout.write(
            "rows: {rows}; households: {households_created} new, {households_updated} changed, "
            "{households_unchanged} unchanged; persons: {persons_created} new, "
            "{persons_updated} changed, {persons_unchanged} unchanged".format(**summary)
        )
        for dup in summary.get("duplicates", []):
            self.stdout.write(
                f"line {dup['line']}: possible duplicate ({dup['reason']}): {dup['name']} ~ "
                f"person {dup['other_id']} {dup['other_name']} in {dup['other_reference']}"
            )

    def _print_errors(self, batch) -> None:
        for error in batch.errors:
            where = f"line {error['line']}" if error["line"] else "file"
            column = f", column {error['column']}" if error["column"] else ""
            self.stderr.write(f"{where}{column}: {error['message']}")
        count = batch.summary.get("error_count", len(batch.errors))
        if count > len(batch.errors):
            self.stderr.write(f"... and {count - len(batch.errors)} more errors")
