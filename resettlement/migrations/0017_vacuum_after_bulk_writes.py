"""PostgreSQL: keep the trigram indexes fast after bulk writes.

A GIN index takes new entries into a *pending list* that every search reads in full until
VACUUM merges it into the index. After a 50,000-row import (or one that was rolled back) the
list holds tens of thousands of entries and a name or IIN search slows from 10 to 30 ms until
autovacuum runs — which, by the default thresholds (20 % of a million-row table), is not soon.

- The people and household tables are vacuumed and analysed after 2 % of their rows were
  inserted, changed or deleted (about 24,000 people at 1.2 million), not 20 %.
- The trigram indexes' pending lists are capped at 1 MB (the server default is 4 MB): an insert
  that fills the list merges it, so a search never reads more than that.
"""

from django.db import migrations

from resettlement.migration_operations import PostgresOnlySQL

TABLES = ("resettlement_person", "resettlement_household")
INDEXES = ("person_search_key_trgm", "household_reference_trgm")
TABLE_SETTINGS = (
    "autovacuum_vacuum_scale_factor = 0.02, "
    "autovacuum_vacuum_insert_scale_factor = 0.02, "
    "autovacuum_analyze_scale_factor = 0.02"
)
TABLE_RESET = (
    "autovacuum_vacuum_scale_factor, autovacuum_vacuum_insert_scale_factor, "
    "autovacuum_analyze_scale_factor"
)

FORWARD = [f'ALTER TABLE "{table}" SET ({TABLE_SETTINGS})' for table in TABLES] + [
    f'ALTER INDEX "{index}" SET (gin_pending_list_limit = 1024)' for index in INDEXES
]
BACKWARD = [f'ALTER TABLE "{table}" RESET ({TABLE_RESET})' for table in TABLES] + [
    f'ALTER INDEX "{index}" RESET (gin_pending_list_limit)' for index in INDEXES
]


class Migration(migrations.Migration):
    dependencies = [
        ("resettlement", "0016_person_name_birth_index"),
    ]

    operations = [PostgresOnlySQL(FORWARD, BACKWARD)]
