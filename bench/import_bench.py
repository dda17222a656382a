"""Benchmark: check and import a 50,000-row persons CSV (not a test).

    DJANGO_DEBUG=1 .venv/bin/python bench/import_bench.py [ROWS]

Uses a throw-away SQLite database in a temporary folder (or DATABASE_URL when set — then it
must point at a migrated database you can discard; ``bench/run.py`` runs it against the
synthetic register, so that duplicate detection looks through a million people). Goes through
the real import path (``services.imports.create_batch`` then ``commit_batch``, which validates
every row again before writing). Prints rows/s for the preview (decode + validate) and for the
commit (validate + write), the peak resident memory, and one JSON line with the figures.
"""

import csv
import io
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
os.environ.setdefault("DJANGO_DEBUG", "1")
if "DATABASE_URL" not in os.environ:
    os.environ["DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"

import django

django.setup()

from django.conf import settings  # noqa: E402

settings.DEBUG = False  # DEBUG keeps every query's SQL in memory; production does not

from django.core.management import call_command  # noqa: E402

from resettlement.csv_format import PERSON_COLUMNS  # noqa: E402
from resettlement.models import Household, Person  # noqa: E402
from resettlement.services.imports import commit_batch, create_batch  # noqa: E402

SURNAMES = ["Ахметов", "Масадыков", "Нурланов", "Сейткали", "Жумабаев", "Omarov", "Tokhtarov"]
GIVEN = ["Ерлан", "Нурлан", "Болат", "Asel", "Айгерим", "Дана", "Марат", "Ruslan"]


def make_csv(rows: int, family: int = 4) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(PERSON_COLUMNS)
    for index in range(rows):
        household = index // family
        member = index % family
        row = dict.fromkeys(PERSON_COLUMNS, "")
        row.update(
            household_reference=f"NEW-{household}",
            program="KZ-KANDAS",
            origin_country="AF",
            origin_area="Balkh, Mazar-i-Sharif",
            destination_region="KZ-55",
            application_channel="evacuation",
            relation="head" if member == 0 else "child",
            surname=SURNAMES[household % len(SURNAMES)],
            given_name=f"{GIVEN[index % len(GIVEN)]}{household}",
            sex="M" if member % 2 == 0 else "F",
            birth_date=str(1960 + household % 40)
            if member == 0
            else f"{2000 + member}-0{member}-1{member}",
            document_type="passport",
            document_number=f"P{index:08d}",
            member_status="abroad",
        )
        writer.writerow(row[c] for c in PERSON_COLUMNS)
    return out.getvalue().encode()


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    call_command("migrate", verbosity=0)
    data = make_csv(rows)
    print(f"{rows} rows, {len(data) / 1e6:.1f} MB")
    start, cpu = time.perf_counter(), time.process_time()
    batch = create_batch(data=data, file_name="bench.csv", user=None)
    checked, checked_cpu = time.perf_counter() - start, time.process_time() - cpu
    assert batch.status == "ready", batch.errors[:5]
    print(f"preview (decode + validate): {checked:.1f} s, {rows / checked:,.0f} rows/s", end="")
    print(f" (CPU {checked_cpu:.1f} s: {rows / checked_cpu:,.0f} rows/s)")
    start, cpu = time.perf_counter(), time.process_time()
    result = commit_batch(batch=batch, user=None)
    written, written_cpu = time.perf_counter() - start, time.process_time() - cpu
    assert result is not None, "already imported"
    assert result.committed, result.errors[:5]
    print(f"commit (validate + write):   {written:.1f} s, {rows / written:,.0f} rows/s", end="")
    print(f" (CPU {written_cpu:.1f} s: {rows / written_cpu:,.0f} rows/s)")
    print(f"households {Household.objects.count()}, persons {Person.objects.count()}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory: {peak:.0f} MB")
    figures = {
        "import_rows": rows,
        "import_preview_s": round(checked, 2),
        "import_commit_s": round(written, 2),
        "import_preview_rows_per_s": round(rows / checked),
        "import_commit_rows_per_s": round(rows / written),
        "import_preview_and_commit_rows_per_s": round(rows / (checked + written)),
        "import_peak_rss_mb": round(peak),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
