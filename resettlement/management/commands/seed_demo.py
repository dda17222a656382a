"""Load the demo data set: the 2021 events, a few hundred invented households, demo logins.

The generation itself lives in ``resettlement.demo``; this command only guards against
running in production, calls it and prints what it did.
"""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ...demo import SeedReport, seed_demo


class Command(BaseCommand):
    help = (
        "Load invented demo households (is_demo=True) and demo logins. Running it again "
        "changes nothing. Refuses to run unless DEBUG is on or --force is given."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even though DEBUG is off (never on a production database).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # The data set contains a superuser with a published password: keep it off production.
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "Refusing to load demo data: DEBUG is off, so this looks like production. "
                "The demo data includes a superuser with a published password. Set "
                "DJANGO_DEBUG=1 for a development database, or pass --force if you are sure."
            )
        report = seed_demo()
        self.print_report(report)

    def print_report(self, report: SeedReport) -> None:
        out = self.stdout
        out.write(f"Demo data as of {report.as_of:%Y-%m-%d} (invented people, is_demo=True).")
        out.write(
            f"This run: {report.groups_created} group(s), {report.households_created} "
            f"household(s) and {report.people_created} people created; "
            f"{report.households_skipped} household(s) already present."
        )
        if report.conflicts:
            out.write(
                self.style.WARNING(
                    f"{len(report.conflicts)} demo reference(s) belong to real households and "
                    f"were left alone: {', '.join(report.conflicts[:10])}"
                )
            )
        out.write("")
        out.write(f"{'program':<14} {'groups':>6} {'households':>10} {'people':>7}")
        for row in report.totals:
            out.write(f"{row.program:<14} {row.groups:>6} {row.households:>10} {row.people:>7}")
        out.write(
            f"{'total':<14} {sum(r.groups for r in report.totals):>6} "
            f"{sum(r.households for r in report.totals):>10} "
            f"{sum(r.people for r in report.totals):>7}"
        )
        benefits = ", ".join(f"{n} {what.replace('_', ' ')}" for what, n in report.benefits.items())
        payments = ", ".join(f"{n} {state}" for state, n in sorted(report.payments.items()))
        out.write(f"Benefits added this run: {benefits or 'none'}.")
        out.write(f"Payments in the ledger: {payments or 'none'}.")
        out.write("")
        out.write("Demo logins:")
        user_width = max(len(login[0]) for login in report.logins)
        password_width = max(len(login[1]) for login in report.logins)
        out.write(f"  {'username':<{user_width}}  {'password':<{password_width}}  role")
        for username, password, description in report.logins:
            out.write(f"  {username:<{user_width}}  {password:<{password_width}}  {description}")
        out.write("")
        out.write(
            "Sign in at http://127.0.0.1:8000/admin/ — reports at http://127.0.0.1:8000/reports/"
        )
