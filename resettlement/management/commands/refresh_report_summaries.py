"""Recompute every household's summary: ``manage.py refresh_report_summaries``.

Not needed in normal operation (every write keeps them right); run it after restoring a backup
taken without them, or after changing people with raw SQL.
"""

from django.core.management.base import BaseCommand

from resettlement.models import HouseholdSummary
from resettlement.services.summaries import refresh_household_summaries


class Command(BaseCommand):
    help = "Recompute the per-household member counts that reports and lists read."

    def handle(self, *args, **options) -> None:
        refresh_household_summaries()
        self.stdout.write(f"{HouseholdSummary.objects.count()} household summaries")
