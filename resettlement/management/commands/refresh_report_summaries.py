"""Recompute every summary the reports read: ``manage.py refresh_report_summaries``.

Not needed in normal operation (every write keeps them right); run it after restoring a backup
taken without them, or after changing people or payments with raw SQL.
"""

from django.core.management.base import BaseCommand

from resettlement.models import HouseholdSummary, PaymentMonth
from resettlement.services.payment_summaries import refresh_payment_months
from resettlement.services.summaries import refresh_household_summaries


class Command(BaseCommand):
    help = (
        "Recompute the per-household member counts and the monthly payment sums that reports "
        "and lists read."
    )

    def handle(self, *args, **options) -> None:
        refresh_household_summaries()
        refresh_payment_months()
        self.stdout.write(
            f"{HouseholdSummary.objects.count()} household summaries, "
            f"{PaymentMonth.objects.count()} monthly payment summaries"
        )
