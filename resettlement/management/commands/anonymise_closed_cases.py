"""Anonymise the personal data of cases closed longer than a configured period."""

from django.conf import settings
from django.core.management.base import BaseCommand

from ...services.retention import anonymise_closed_cases


class Command(BaseCommand):
    help = (
        "Anonymise people of cases closed more than N days ago, in the tables and their history. "
        "Safe to run again: cases already done are skipped. Each run is logged."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--older-than-days",
            type=int,
            default=settings.RETENTION_CLOSED_CASE_DAYS,
            help="Default: RETENTION_CLOSED_CASE_DAYS (env DJANGO_RETENTION_CLOSED_CASE_DAYS).",
        )

    def handle(self, *args, **options) -> None:
        run = anonymise_closed_cases(older_than_days=options["older_than_days"])
        self.stdout.write(
            f"Anonymised {run.households} closed case(s), {run.persons} people, "
            f"{run.history_rows} history rows (closed on or before {run.closed_before})."
        )
