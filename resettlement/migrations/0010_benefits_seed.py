"""Seed Kazakhstan's MCI values 2021–2026 and the kandas quota benefit rules.

These are data, not code: staff correct and extend them in the admin (with history).
"""

import datetime as dt
from decimal import Decimal

from django.db import migrations

MCI = {2021: 2917, 2022: 3063, 2023: 3450, 2024: 3692, 2025: 3932, 2026: 4325}

RULES = [
    {
        "code": "relocation",
        "name": "Relocation subsidy (70 MCI per family member, once)",
        "frequency": "once",
        "unit": "person",
        "amount": Decimal(70),
        "amount_max": None,
        "months": 1,
        "quota_participants_only": True,
        "from_status": "arrived",
        "description": "One-off subsidy for quota participants, per family member arriving.",
    },
    {
        "code": "rent",
        "name": "Rent and utilities (15–30 MCI per family per month, 12 months)",
        "frequency": "monthly",
        "unit": "household",
        "amount": Decimal(15),
        "amount_max": Decimal(30),
        "months": 12,
        "quota_participants_only": True,
        "from_status": "arrived",
        "description": (
            "Monthly rent and utilities subsidy for quota participants. The multiple between 15 "
            "and 30 MCI is decided per family by the local department; record it and why on the "
            "family's grant."
        ),
    },
    {
        "code": "employer",
        "name": "Employer subsidy (400 MCI, once)",
        "frequency": "once",
        "unit": "household",
        "amount": Decimal(400),
        "amount_max": None,
        "months": 1,
        "quota_participants_only": True,
        "from_status": "arrived",
        "description": "Paid to the employer who hires a resettler; record it on the family's case.",
    },
]


def seed(apps, schema_editor):
    IndexValue = apps.get_model("resettlement", "IndexValue")
    BenefitRule = apps.get_model("resettlement", "BenefitRule")
    Program = apps.get_model("resettlement", "Program")
    for year, value in MCI.items():
        IndexValue.objects.get_or_create(
            country="KZ",
            code="MCI",
            year=year,
            defaults={"value": Decimal(value), "legal_basis": f"Law on the republican budget {year}"},
        )
    program = Program.objects.filter(code="KZ-KANDAS").first()
    if program is None:
        return
    for rule in RULES:
        BenefitRule.objects.get_or_create(
            program=program,
            code=rule["code"],
            effective_from=dt.date(2021, 1, 1),
            defaults={**rule, "amount_kind": "index", "index_code": "MCI"},
        )


class Migration(migrations.Migration):
    dependencies = [("resettlement", "0009_benefits")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
