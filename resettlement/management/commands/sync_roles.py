"""Bring the role groups in line with ``resettlement/roles.py`` (run after new permissions land)."""

from django.core.management.base import BaseCommand

from ...roles import ROLE_PERMISSIONS, sync_roles


class Command(BaseCommand):
    help = (
        "Create or update the role groups (registrar, case officer, …) from resettlement/roles.py."
    )

    def handle(self, *args, **options) -> None:
        missing = sync_roles()
        for codename in missing:
            self.stderr.write(f"not granted (permission does not exist yet): {codename}")
        self.stdout.write(f"{len(ROLE_PERMISSIONS)} roles synchronised.")
