"""Operations shared by the app's migrations (kept small and stable: migrations import them)."""

from django.db import migrations


class PostgresOnlySQL(migrations.RunSQL):
    """Raw SQL that runs on PostgreSQL and is skipped elsewhere (SQLite has no trigram index,
    no storage parameters)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
