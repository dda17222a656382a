"""Covering indexes for the arrivals and status grants reports (PostgreSQL only).

These reports read a few columns of every household; with them in the index PostgreSQL answers
from the index alone (a tenth of the table). SQLite has no ``INCLUDE`` (Django warns and would
build plain indexes), so, like the trigram indexes of 0008, they are not declared on the model.
"""

from django.db import migrations

from resettlement.migration_operations import PostgresOnlySQL


class Migration(migrations.Migration):
    dependencies = [
        ("resettlement", "0018_payment_month"),
    ]

    operations = [
        PostgresOnlySQL(
            sql=[
                'CREATE INDEX "household_arrivals" ON "resettlement_household" ("arrived_on") '
                'INCLUDE ("id", "member_count", "destination_region_id", "origin_country_id")',
                'CREATE INDEX "household_status_granted" ON "resettlement_household" '
                '("status_granted_on") INCLUDE ("id", "member_count")',
            ],
            reverse_sql=[
                'DROP INDEX IF EXISTS "household_arrivals"',
                'DROP INDEX IF EXISTS "household_status_granted"',
            ],
        ),
    ]
