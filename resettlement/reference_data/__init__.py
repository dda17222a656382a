"""Reference data shipped with the tracker (countries, regions, programs, quotas), as JSON.

Loaded by a data migration and again by ``seed_demo``; loading is idempotent (update or
create by code), so figures corrected here reach existing databases by re-running the loader.
"""

import datetime as dt
import json
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).resolve().parent


def read(name: str) -> Any:
    return json.loads((DATA_DIR / name).read_text(encoding="utf-8"))


def load_reference_data(apps: Any) -> None:
    """Create or update countries, regions, programs and the seeded quotas.

    ``apps`` is a migration's app registry or ``django.apps.apps``.
    """
    from ..models.reference import name_search_key

    Country = apps.get_model("resettlement", "Country")
    Region = apps.get_model("resettlement", "Region")
    Program = apps.get_model("resettlement", "Program")
    RegionQuota = apps.get_model("resettlement", "RegionQuota")
    QuotaRevision = apps.get_model("resettlement", "QuotaRevision")
    names = ("name_en", "name_ru", "name_kk", "name_ky")

    for row in read("countries.json"):
        Country.objects.update_or_create(
            code=row["code"],
            defaults={**{k: row[k] for k in names}, "search_key": name_search_key(row)},
        )

    for row in read("regions.json"):
        parent = Region.objects.get(code=row["parent"]) if row["parent"] else None
        Region.objects.update_or_create(
            code=row["code"],
            defaults={
                **{k: row[k] for k in names},
                "parent": parent,
                "level": row["level"],
                "is_designated": row["designated"],
                "search_key": name_search_key(row),
            },
        )

    for row in read("programs.json"):
        Program.objects.update_or_create(
            code=row["code"],
            defaults={
                **{k: v for k, v in row.items() if k != "code"},
                "search_key": name_search_key(row),
            },
        )

    quotas = read("quotas.json")
    program = Program.objects.get(code=quotas["program"])
    for row in quotas["quotas"]:
        quota, created = RegionQuota.objects.get_or_create(
            program=program,
            region=Region.objects.get(code=row["region"]),
            year=row["year"],
            defaults={"places": row["places"]},
        )
        if created:
            QuotaRevision.objects.create(
                quota=quota,
                places_before=None,
                places_after=row["places"],
                effective_on=dt.date.fromisoformat(row["effective_on"]),
                reason=quotas["reason"],
            )
