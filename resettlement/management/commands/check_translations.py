"""List what is missing from the Russian, Kazakh and Kyrgyz catalogs; fail when anything is."""

from django.core.management.base import BaseCommand, CommandError

from ...translations import CATALOG_LANGUAGES, catalog_problems, source_messages


class Command(BaseCommand):
    help = "Check that locale/{ru,kk,ky} translate every string of our code (no gettext needed)."

    def handle(self, *args, **options) -> None:
        messages = source_messages()
        problems = [p for lang in CATALOG_LANGUAGES for p in catalog_problems(lang, messages)]
        for problem in problems:
            self.stdout.write(problem)
        if problems:
            raise CommandError(f"{len(problems)} translation problem(s).")
        self.stdout.write(f"{len(messages)} strings, translated in {', '.join(CATALOG_LANGUAGES)}.")
