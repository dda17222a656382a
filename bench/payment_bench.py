"""Benchmark: one month's payment run for a whole program (not a test).

    DATABASE_URL=postgres://…/<a synthetic register> .venv/bin/python bench/payment_bench.py

Runs next month's run of the kandas program through ``services.payments``, as two officers would:
``prepare_batch`` (every planned payment due by then that is in no run; households whose case
ended are left out with the reason), ``approve_batch`` by the other officer, ``pay_batch``. It
writes to the database: point it at a register you can discard (``bench/run.py`` runs it last).
Prints the figures and one JSON line.
"""

import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
os.environ.setdefault("DJANGO_DEBUG", "1")

import django

django.setup()

from django.conf import settings  # noqa: E402

settings.DEBUG = False  # DEBUG keeps every query's SQL in memory; production does not

from django.contrib.auth import get_user_model  # noqa: E402
from django.utils import timezone  # noqa: E402

from resettlement.benefits import add_months, month_start  # noqa: E402
from resettlement.models import PaymentBatch, Program  # noqa: E402
from resettlement.services.payments import (  # noqa: E402
    approve_batch,
    due_payments,
    pay_batch,
    prepare_batch,
)


def officer(username: str):
    user, _created = get_user_model().objects.get_or_create(
        username=username, defaults={"is_staff": True}
    )
    return user


def main() -> None:
    program = Program.objects.get(code=sys.argv[1] if len(sys.argv) > 1 else "KZ-KANDAS")
    month = add_months(month_start(timezone.localdate()), 1)
    while PaymentBatch.objects.filter(program=program, month=month, region=None).exists():
        month = add_months(month, 1)  # a run already made (the benchmark ran before)
    maker, checker = officer("bench_payment_maker"), officer("bench_payment_checker")
    due = due_payments(program=program, month=month).count()
    start = time.perf_counter()
    batch = prepare_batch(program=program, month=month, by=maker)
    prepared = time.perf_counter()
    approve_batch(batch=batch, by=checker)
    approved = time.perf_counter()
    pay_batch(batch=batch, by=checker, paid_on=month + dt.timedelta(days=24), reference="BENCH")
    paid = time.perf_counter()
    figures = {
        "payment_run_month": f"{month:%Y-%m}",
        "payment_run_due": due,
        "payment_run_payments": batch.payments.count(),
        "payment_run_excluded_households": batch.exclusions.count(),
        "payment_run_prepare_s": round(prepared - start, 3),
        "payment_run_approve_s": round(approved - prepared, 3),
        "payment_run_pay_s": round(paid - approved, 3),
        "payment_run_s": round(paid - start, 3),
    }
    for key, value in figures.items():
        print(f"{key}: {value}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
