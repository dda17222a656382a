"""Fill the database with a synthetic register: ``manage.py generate_synthetic --persons N``."""

import datetime as dt
import sys

from django.core.management.base import BaseCommand, CommandParser
from tqdm import tqdm

from resettlement.synthetic import generate


class Command(BaseCommand):
    help = "Generate a synthetic register of N people (marked as demo data) for load tests."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--persons", type=int, required=True, help="how many people")
        parser.add_argument(
            "--seed", type=int, default=1, help="random seed (same seed, same data)"
        )
        parser.add_argument(
            "--as-of",
            type=dt.date.fromisoformat,
            default=None,
            help="the 'today' of the data, YYYY-MM-DD (default: today); no date is later",
        )
        parser.add_argument(
            "--batch", type=int, default=5000, help="households written per transaction"
        )

    def handle(self, *args, persons: int, seed: int, as_of, batch: int, **options) -> None:
        with tqdm(
            total=persons, unit="person", disable=options["verbosity"] == 0, file=sys.stderr
        ) as bar:
            counts = generate(
                persons=persons, seed=seed, as_of=as_of, batch_households=batch, progress=bar.update
            )
        self.stdout.write(", ".join(f"{table}: {n}" for table, n in counts.items()))
