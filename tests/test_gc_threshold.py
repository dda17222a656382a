"""An import runs with fewer garbage collections, and leaves the process's setting as it was."""

import gc
import threading

import pytest

from resettlement.csv_format import PERSON_COLUMNS
from resettlement.services import imports
from resettlement.services.gc_threshold import JOB_THRESHOLD, fewer_collections

from .imports_fixtures import blank_row, to_csv

pytestmark = pytest.mark.django_db


def checked(text: str, progress) -> imports.ImportResult:
    return imports.run_import(text=text, delimiter=",", user=None, commit=False, progress=progress)


def test_an_import_runs_with_the_raised_threshold_and_sets_it_back():
    before = gc.get_threshold()
    during = []
    text = to_csv([list(PERSON_COLUMNS), blank_row(household_reference="NEW-1")])

    result = checked(text, progress=lambda rows: during.append(gc.get_threshold()))

    assert result.error_count == 0
    assert during == [(JOB_THRESHOLD, *before[1:])]
    assert gc.get_threshold() == before


def test_a_refused_file_sets_the_threshold_back():
    before = gc.get_threshold()

    with pytest.raises(imports.ImportFileError):
        checked(",".join(PERSON_COLUMNS) + "\r\n", progress=None)

    assert gc.get_threshold() == before


def test_the_threshold_stays_raised_until_the_last_of_two_jobs_ends():
    before = gc.get_threshold()
    first_in, first_may_end = threading.Event(), threading.Event()
    seen = {}

    def first() -> None:
        with fewer_collections():
            first_in.set()
            first_may_end.wait(5)
        seen["after both"] = gc.get_threshold()

    thread = threading.Thread(target=first)
    thread.start()
    first_in.wait(5)
    with fewer_collections():
        seen["two running"] = gc.get_threshold()
    seen["one running"] = gc.get_threshold()
    first_may_end.set()
    thread.join(5)

    assert seen == {
        "two running": (JOB_THRESHOLD, *before[1:]),
        "one running": (JOB_THRESHOLD, *before[1:]),
        "after both": before,
    }
