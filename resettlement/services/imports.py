"""Bulk import of households and their members from a persons CSV: decode → parse → validate →
preview → commit. The admin upload page and ``manage.py import_households`` both use
:func:`create_batch` (decode, check, preview) and :func:`commit_batch` (write).

The format is ``csv_format.PERSON_COLUMNS``: one row per person, the household's columns
repeated on each member's row — the same file ``/exports/persons.csv`` writes.

Matching (the README has the same rules for users):

* ``person_id`` filled → that person is updated (it must be in the row's household).
* ``person_id`` empty → a new person. An IIN that another person already has is an error
  (put that person's ``person_id`` in the row to update them). The same document number, or
  the same name (either script) with the same date or year of birth, is a *possible
  duplicate*: shown in the preview, and after the commit queued for review.
* ``household_reference`` of an existing household → that household is updated and the row's
  person added to it or updated in it.
* ``household_reference`` that does not exist → a temporary key: the rows sharing it form one
  new household, opened through ``services.cases.open_case`` with a new reference.
* ``household_reference`` empty → a one-person new household (the row must be its head).

Quota places: ``quota_year`` is written only by the quota ledger
(``services.quota_ledger.place_in_quota``, which checks and reserves the places), never by the
import. A new household must leave it empty (it is placed from its page, “Place in quota”); on an
existing household it may be left as exported or emptied, and a different value is an error. A
household holding quota places cannot move to another region by import (release them first).
A row adding a member to an existing household, or marking one left or deceased (or back),
recomputes that household's planned payments and gives back the places of members no longer
arriving after the file is written (``services.cases.members_changed``, as the admin pages do).

Read-only columns: ``household_status`` and the case dates set by status changes
(``applied_on``, ``decided_on``, ``arrived_on``, ``status_granted_on``, ``status_expires_on``,
``citizenship_on``) are exported for information. On an existing household they may be left
as exported or emptied; a different value is an error (status changes go through
“Change status”). A new household starts as a draft, so they must be empty (status may be
``draft``).

Validation streams through the file in chunks of ``CHUNK_ROWS`` rows with one set of
database look-ups per chunk. A commit runs the same pass inside one transaction, writing each
chunk as it goes (new rows with ``services.bulk``, updates with ``bulk_update``; the household
counts once, at the end); on the first error it stops writing, keeps checking, and rolls
everything back at the end — all or nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, connections, transaction
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from simple_history.utils import bulk_update_with_history

from ..csv_format import PERSON_COLUMNS, unescape_cell
from ..enums import (
    ApplicationChannel,
    CaseStatus,
    DatePrecision,
    DocumentType,
    Education,
    MemberStatus,
    Relation,
    Sex,
)
from ..models import (
    Country,
    DuplicateCandidate,
    DuplicateReason,
    Group,
    Household,
    ImportBatch,
    ImportStatus,
    Person,
    PlacementStatus,
    Program,
    QuotaPlacement,
    Region,
)
from ..selectors.access import households_for, persons_for, programs_for, regions_for
from ..selectors.quotas import GONE
from ..text import normalise_document_number, search_key
from ..validators import validate_birth_year, validate_iin
from .audit import log_access
from .bulk import create_objects, create_with_history
from .cases import members_changed, open_cases
from .gc_threshold import fewer_collections
from .summaries import refresh_household_summaries

logger = logging.getLogger(__name__)

CHUNK_ROWS = 1000
MAX_ERRORS = 1000
MAX_LISTED = 1000
#: Seconds between two updates of a running import's progress in the cache.
PROGRESS_EVERY_S = 0.5
DEFAULT_MAX_BYTES = 50 * 1024 * 1024

User = AbstractBaseUser | AnonymousUser | None

#: Columns that describe the household (repeated on every member's row) and that the import writes.
HOUSEHOLD_COLUMNS = (
    "program",
    "group",
    "origin_country",
    "origin_area",
    "destination_region",
    "quota_year",
    "application_channel",
    "residence_permit_on",
)
#: Exported for information; status changes set them.
READ_ONLY_COLUMNS = (
    "household_status",
    "applied_on",
    "decided_on",
    "arrived_on",
    "status_granted_on",
    "status_expires_on",
    "citizenship_on",
)
#: Person fields the import writes (model field names; citizenship is ``citizenship_id``).
PERSON_FIELDS = (
    "relation",
    "surname",
    "given_name",
    "patronymic",
    "surname_latin",
    "given_name_latin",
    "patronymic_latin",
    "sex",
    "birth_date",
    "birth_date_precision",
    "citizenship_id",
    "document_type",
    "document_number",
    "iin",
    "education",
    "occupation",
    "languages",
    "phone",
    "member_status",
)
HOUSEHOLD_FIELDS = (
    "group_id",
    "origin_country_id",
    "origin_area",
    "destination_region_id",
    "application_channel",
    "residence_permit_on",
)
_COLUMN_OF_FIELD = {"citizenship_id": "citizenship", "group_id": "group"}
_COLUMN_OF_FIELD.update(
    origin_country_id="origin_country", destination_region_id="destination_region"
)

CHOICES = {
    "application_channel": ApplicationChannel,
    "relation": Relation,
    "sex": Sex,
    "birth_date_precision": DatePrecision,
    "document_type": DocumentType,
    "education": Education,
    "member_status": MemberStatus,
}
CHOICE_VALUES = {column: frozenset(choices.values) for column, choices in CHOICES.items()}
TEXT_LIMITS = {
    "surname": 100,
    "given_name": 100,
    "patronymic": 100,
    "surname_latin": 100,
    "given_name_latin": 100,
    "patronymic_latin": 100,
    "document_number": 40,
    "occupation": 200,
    "languages": 200,
    "phone": 30,
    "origin_area": 200,
    "group": 200,
    "household_reference": 20,
    "program": 20,
    "destination_region": 20,
}
#: No cell is longer than this, whatever the column: a guard against garbage files.
MAX_CELL = 1000
#: Each column and the length of its longest cell, in the file's order.
_CELL_LIMITS = tuple((column, TEXT_LIMITS.get(column, MAX_CELL)) for column in PERSON_COLUMNS)

_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_DOTTED = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")
_YEAR = re.compile(r"^\d{4}$")


class ImportFileError(Exception):
    """The file as a whole cannot be imported; ``str()`` is the message for the user."""


@dataclass
class ImportResult:
    """What an import pass found (a preview) or did (a commit)."""

    rows: int = 0
    households_created: int = 0
    households_updated: int = 0
    households_unchanged: int = 0
    #: Existing households a member joined or whose member left or died: their planned payments
    #: are recomputed and their quota places fitted after the commit (``members_changed``).
    households_members_changed: int = 0
    quota_places_given_back: int = 0
    persons_created: int = 0
    persons_updated: int = 0
    persons_unchanged: int = 0
    error_count: int = 0
    errors: list[dict] = field(default_factory=list)
    changes: list[dict] = field(default_factory=list)
    duplicates: list[dict] = field(default_factory=list)
    committed: bool = False

    def add_error(self, line: int | None, column: str, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append({"line": line, "column": column, "message": str(message)})

    def summary(self) -> dict:
        return {
            "rows": self.rows,
            "households_created": self.households_created,
            "households_updated": self.households_updated,
            "households_unchanged": self.households_unchanged,
            "households_members_changed": self.households_members_changed,
            "quota_places_given_back": self.quota_places_given_back,
            "persons_created": self.persons_created,
            "persons_updated": self.persons_updated,
            "persons_unchanged": self.persons_unchanged,
            "error_count": self.error_count,
            "changes": self.changes,
            "duplicates": self.duplicates,
            "committed": self.committed,
        }


# --- decoding and parsing ------------------------------------------------------------------


def max_bytes() -> int:
    return int(getattr(settings, "IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES))


def decode_upload(data: bytes) -> tuple[str, str]:
    """The file's text and encoding: UTF-8 (with or without BOM), else Windows-1251.

    Raises :class:`ImportFileError` for an empty, oversized or binary file.
    """
    if len(data) > max_bytes():
        raise ImportFileError(
            _("The file is %(size)s bytes; the limit is %(limit)s bytes. Split it into parts.")
            % {"size": len(data), "limit": max_bytes()}
        )
    if not data.strip(b"\xef\xbb\xbf \t\r\n"):
        raise ImportFileError(_("The file is empty."))
    nul = data.find(b"\x00")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        raise ImportFileError(
            _(
                "Line %(line)d contains a NUL byte: this is not a text CSV file (perhaps a "
                "spreadsheet or another binary file renamed .csv). Save it as CSV and try again."
            )
            % {"line": line}
        )
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1251")
    except UnicodeDecodeError as error:
        raise ImportFileError(
            _("The file is neither UTF-8 nor Windows-1251 text; save it as CSV (UTF-8).")
        ) from error
    # Binary data decodes as cp1251 too; real text has almost no control characters.
    controls = sum(1 for c in text if ord(c) < 32 and c not in "\r\n\t")
    if controls > max(2, len(text) // 1000):
        raise ImportFileError(
            _(
                "The file does not look like text (perhaps a spreadsheet renamed .csv). Save it as CSV."
            )
        )
    return text, "cp1251"


def detect_delimiter(text: str) -> str:
    """Comma or semicolon, whichever the header line has more of (Excel in Russian uses ';')."""
    header = text.split("\n", 1)[0]
    return ";" if header.count(";") > header.count(",") else ","


def iter_records(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(first physical line of the record, cells); the header is line 1. Quoted newlines are
    counted, so the line number is the one a text editor shows."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    previous_end = 0
    try:
        for cells in reader:
            start = previous_end + 1
            previous_end = reader.line_num
            yield start, cells
    except csv.Error as error:
        raise ImportFileError(
            _("Line %(line)d cannot be read as CSV: %(error)s (check the quotes).")
            % {"line": previous_end + 1, "error": error}
        ) from error


def check_header(cells: list[str]) -> list[str]:
    """The header's column codes; raises :class:`ImportFileError` naming missing/unknown ones."""
    header = [c.strip().lstrip("\ufeff") for c in cells]
    missing = [c for c in PERSON_COLUMNS if c not in header]
    unknown = [c for c in header if c and c not in PERSON_COLUMNS]
    repeated = sorted({c for c in header if c and header.count(c) > 1})
    problems = []
    if missing:
        problems.append(_("missing columns: %(cols)s") % {"cols": ", ".join(missing)})
    if unknown:
        problems.append(_("unknown columns: %(cols)s") % {"cols": ", ".join(unknown)})
    if repeated:
        problems.append(_("repeated columns: %(cols)s") % {"cols": ", ".join(repeated)})
    if problems:
        raise ImportFileError(
            _("The first line must be the header of the persons template; %(problems)s.")
            % {"problems": "; ".join(problems)}
        )
    return header


def parse_date(text: str, *, year_allowed: bool = False) -> tuple[dt.date, str]:
    """A date written ``YYYY-MM-DD``, ``DD.MM.YYYY`` or (where allowed) ``YYYY``, and its precision."""
    if year_allowed and _YEAR.match(text):
        try:
            validate_birth_year(int(text))
        except ValidationError as error:
            raise ValueError(" ".join(error.messages)) from error
        return dt.date(int(text), 1, 1), DatePrecision.YEAR
    match = _ISO.match(text)
    if match:
        year, month, day = (int(g) for g in match.groups())
    else:
        match = _DOTTED.match(text)
        if not match:
            raise ValueError(
                _("“%(text)s” is not a date; write YYYY-MM-DD or DD.MM.YYYY%(year)s.")
                % {"text": text, "year": _(" or a year alone") if year_allowed else ""}
            )
        day, month, year = (int(g) for g in match.groups())
    try:
        return dt.date(year, month, day), DatePrecision.EXACT
    except ValueError as error:
        raise ValueError(_("“%(text)s” is not a real date.") % {"text": text}) from error


def name_key(surname: str, given_name: str) -> str:
    """Surname and given name, folded across scripts and spellings (for likely duplicates)."""
    return " ".join(k for k in (search_key(surname), search_key(given_name)) if k)


def _person_name_key(person: Person) -> str:
    return name_key(
        person.surname or person.surname_latin, person.given_name or person.given_name_latin
    )


#: What the import reads of a likely duplicate found by name: its names, birth and household
#: reference (a common name matches thousands of people; loading only these is twice as fast).
NAMED_FIELDS = (
    "surname",
    "given_name",
    "surname_latin",
    "given_name_latin",
    "birth_date",
    "birth_date_precision",
    "household__reference",
)


def _people_named(wanted: list[tuple[str, int]], *, fields: tuple[str, ...] = ()) -> list[Person]:
    """People whose name key starts with one of ``wanted``'s keys, born in its year (with only
    ``fields`` loaded, when given).

    Plain SQL on the index of ``search_key`` and birth date (a key range, so the index serves
    on SQLite and PostgreSQL alike; the year is checked in the index too): building thousands
    of ORM ``Q`` objects per chunk was the slowest part. On PostgreSQL the keys and years go
    as two arrays joined to the people table, one short statement for the whole chunk.
    """
    if not wanted:
        return []
    table = connection.ops.quote_name(Person._meta.db_table)
    found: list[int] = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT p.id FROM unnest(%s::text[], %s::int[]) AS w(key, year) "  # noqa: S608
                f"JOIN {table} p ON p.search_key >= w.key AND p.search_key < w.key || '~' "
                "AND p.birth_date >= make_date(w.year, 1, 1) "
                "AND p.birth_date <= make_date(w.year, 12, 31)",
                [[key for key, _year in wanted], [year for _key, year in wanted]],
            )
            found = [pk for (pk,) in cursor.fetchall()]
        else:
            for start in range(0, len(wanted), 200):
                part = wanted[start : start + 200]
                condition = " OR ".join(
                    "(search_key >= %s AND search_key < %s "
                    "AND birth_date >= %s AND birth_date <= %s)"
                    for _ in part
                )
                params: list = []
                for key, year in part:
                    params += [key, key + "~", dt.date(year, 1, 1), dt.date(year, 12, 31)]
                cursor.execute(f"SELECT id FROM {table} WHERE {condition}", params)  # noqa: S608
                found += [pk for (pk,) in cursor.fetchall()]
    if not found:
        return []
    people = Person.objects.filter(pk__in=found).select_related("household")
    return list(people.only(*fields) if fields else people)


@dataclass(slots=True)
class _NewPerson:
    """A new person of an earlier row, as the look-up of likely duplicates within the file
    needs it: while its chunk is checked and written the person itself, then only its id (set
    by the write) and names, so a long file does not keep every person in memory."""

    line: int
    birth: dt.date
    precision: str
    person: Person | None
    names: tuple[str, str, str, str] = ("", "", "", "")
    person_id: int | None = None

    @property
    def pk(self) -> int | None:
        return self.person.pk if self.person is not None else self.person_id

    @property
    def display(self) -> str:
        """As :func:`_display_name` (only for the few that are listed)."""
        if self.person is not None:
            return _display_name(self.person)
        surname, given_name, surname_latin, given_name_latin = self.names
        return _display_name(
            Person(
                surname=surname,
                given_name=given_name,
                surname_latin=surname_latin,
                given_name_latin=given_name_latin,
                birth_date=self.birth,
                birth_date_precision=self.precision,
            )
        )

    def let_go(self) -> None:
        person = self.person
        self.names = (
            person.surname,
            person.given_name,
            person.surname_latin,
            person.given_name_latin,
        )
        self.person_id = person.pk
        self.person = None


def _same_birth(a_date, a_precision, b_date, b_precision) -> bool:
    if not a_date or not b_date:
        return False
    if DatePrecision.YEAR in (a_precision, b_precision):
        return a_date.year == b_date.year
    return a_date == b_date


# --- the import pass ---------------------------------------------------------------------


@dataclass
class _Row:
    line: int
    cells: dict[str, str]
    values: dict = field(default_factory=dict)
    errors: int = 0


@dataclass
class _HouseholdPlan:
    key: str
    line: int
    values: dict
    existing: Household | None
    household: Household | None = None
    heads: int = 0
    head_lines: list = field(default_factory=list)
    updated_person_ids: set = field(default_factory=set)


class _Importer:
    """One pass over a file: validates every row; when ``commit``, writes as it goes."""

    def visible_households(self) -> QuerySet[Household]:
        return households_for(self.user) if self.user is not None else Household.objects.all()

    def visible_persons(self) -> QuerySet[Person]:
        return persons_for(self.user) if self.user is not None else Person.objects.all()

    def __init__(self, *, user: User, commit: bool, progress: Callable[[int], None] | None):
        self.user = user
        self.commit = commit
        self.progress = progress
        self.result = ImportResult()
        # A clerk imports only into their own programs and regions; the command line (no user)
        # is the operator's, with the whole register in view.
        programs = programs_for(user) if user is not None else Program.objects.all()
        regions = regions_for(user) if user is not None else Region.objects.all()
        self.programs = {p.code: p for p in programs}
        self.regions = {r.code: r for r in regions}
        self.countries = set(Country.objects.values_list("code", flat=True))
        self.groups = {(g.program_id, g.name): g for g in Group.objects.all()}
        self.households: dict[str, _HouseholdPlan] = {}
        self.seen_person_ids: dict[int, int] = {}
        self.seen_iins: dict[str, int] = {}
        self.seen_documents: dict[str, int] = {}
        #: The new people of earlier rows by name key, for likely duplicates within the file.
        self.new_by_name: dict[str, list[_NewPerson]] = {}
        self.new_this_chunk: list[_NewPerson] = []
        self.created_person_ids: set[int] = set()
        self.created_household_ids: set[int] = set()
        self.touched_household_ids: set[int] = set()
        #: Existing households whose members joined, left or died: ``{id: [left, joined]}``
        #: (see ``_members_changed``).
        self.members_changed: dict[int, list[int]] = {}
        self.pending_households: list[Household] = []
        self.today = timezone.localdate()
        self.batch: ImportBatch | None = None

    @property
    def writing(self) -> bool:
        return self.commit and self.result.error_count == 0

    # -- driving

    def run(self, text: str, delimiter: str) -> ImportResult:
        records = iter_records(text, delimiter)
        first = next(records, None)
        if first is None:
            raise ImportFileError(_("The file is empty."))
        header = check_header(first[1])
        chunk: list[_Row] = []
        for line, cells in records:
            if not any(c.strip() for c in cells):
                continue  # blank lines (often at the end of a spreadsheet export)
            row = _Row(line=line, cells={})
            if len(cells) != len(header):
                self.result.rows += 1
                self.result.add_error(
                    line,
                    "",
                    _(
                        "This row has %(n)d cells; the header has %(m)d. Check the delimiters and quotes."
                    )
                    % {"n": len(cells), "m": len(header)},
                )
                continue
            row.cells = dict(zip(header, cells, strict=True))
            chunk.append(row)
            if len(chunk) >= CHUNK_ROWS:
                self._chunk(chunk)
                chunk = []
        if chunk:
            self._chunk(chunk)
        if self.result.rows == 0:
            raise ImportFileError(_("The file has a header but no rows."))
        self._check_heads()
        self.result.households_members_changed = len(self.members_changed)
        if self.writing:
            self._members_changed()
        if self.writing and self.touched_household_ids:
            # In the import's transaction: the counts are right when it commits.
            refresh_household_summaries(self.touched_household_ids)
        return self.result

    def _members_changed(self) -> None:
        """As when a member is added or edited in the admin: the planned payments of existing
        households whose members joined, left or died follow, and the places of members who no
        longer arrive go back to the quota (in the import's transaction)."""
        user = self.user if self.user and self.user.is_authenticated else None
        cause = _("Members changed (import)")
        for household in Household.objects.filter(pk__in=sorted(self.members_changed)):
            left, joined = self.members_changed[household.pk]
            done = members_changed(
                household=household, by=user, cause=cause, left=left, joined=joined
            )
            self.result.quota_places_given_back += done.places_given_back

    def _chunk(self, rows: list[_Row]) -> None:
        self.result.rows += len(rows)
        for row in rows:
            self._clean_cells(row)
        lookups = self._look_up(rows)
        new_people: list[tuple[_Row, Person, list]] = []
        updated_people: list[Person] = []
        for row in rows:
            self._check_row(row, lookups, new_people, updated_people)
        if self.writing:
            self._write(new_people, updated_people)
        elif not self.commit:
            self.result.persons_created += len(new_people)
        for entry in self.new_this_chunk:
            entry.let_go()  # keep its id and name, not the whole person, for the next chunks
        self.new_this_chunk = []
        if self.progress:
            self.progress(self.result.rows)

    # -- per-cell checks

    def _error(self, row: _Row, column: str, message: str) -> None:
        row.errors += 1
        self.result.add_error(row.line, column, message)

    def _clean_cells(self, row: _Row) -> None:
        values = row.values
        cells = row.cells
        for column, limit in _CELL_LIMITS:
            text = cells[column].strip()
            if not text:
                values[column] = text
                continue
            first = text[0]
            if first == "=" or first == "@":
                self._error(
                    row,
                    column,
                    _(
                        "This cell starts with “%(char)s”, so a spreadsheet would run it as a "
                        "formula. If it is really text, start it with an apostrophe (')."
                    )
                    % {"char": text[0]},
                )
                continue
            if first == "'":
                text = unescape_cell(text).strip()
            if len(text) > limit:
                self._error(
                    row,
                    column,
                    _("At most %(limit)d characters here; this cell has %(n)d.")
                    % {"limit": limit, "n": len(text)},
                )
                continue
            values[column] = text
        for column, choices in CHOICES.items():
            text = values.get(column, "")
            if text and text not in CHOICE_VALUES[column]:
                self._error(
                    row,
                    column,
                    _("“%(text)s” is not one of: %(allowed)s.")
                    % {"text": text[:40], "allowed": ", ".join(choices.values)},
                )
                values.pop(column)
        for column in ("relation", "sex", "program", "origin_country"):
            if column in values and not values[column]:
                self._error(row, column, _("This column cannot be empty."))
                values.pop(column)
        for column in ("origin_country", "citizenship"):
            code = values.get(column, "").upper()
            if code and code not in self.countries:
                self._error(
                    row, column, _("Unknown country code “%(code)s”.") % {"code": code[:10]}
                )
                values.pop(column)
            elif column in values:
                values[column] = code
        if values.get("program") and values["program"] not in self.programs:
            self._error(
                row,
                "program",
                _("Unknown program “%(code)s”; the programs are %(codes)s.")
                % {"code": values.pop("program"), "codes": ", ".join(self.programs)},
            )
        if values.get("destination_region") and values["destination_region"] not in self.regions:
            self._error(
                row,
                "destination_region",
                _("Unknown region code “%(code)s”.") % {"code": values.pop("destination_region")},
            )
        if values.get("group") and values.get("program"):
            program = self.programs[values["program"]]
            if (program.pk, values["group"]) not in self.groups:
                self._error(
                    row,
                    "group",
                    _("The program has no group named “%(name)s”; create the group first.")
                    % {"name": values.pop("group")},
                )
        if values.get("quota_year"):
            text = values["quota_year"]
            if not (text.isdigit() and 1991 <= int(text) <= 2100):
                self._error(row, "quota_year", _("“%(text)s” is not a year.") % {"text": text})
                values.pop("quota_year")
        if values.get("iin"):
            try:
                validate_iin(values["iin"])
            except ValidationError as error:
                self._error(row, "iin", " ".join(error.messages))
                values.pop("iin")
        if values.get("person_id") and not values["person_id"].isdigit():
            self._error(
                row, "person_id", _("A person_id is a number; leave it empty for a new person.")
            )
            values.pop("person_id")
        self._clean_dates(row)
        if values.get("surname") == "" and values.get("surname_latin") == "":
            self._error(row, "surname", _("Enter the surname in Cyrillic or in Latin script."))

    def _clean_dates(self, row: _Row) -> None:
        values = row.values
        dates: dict[str, dt.date] = {}
        for column in (*READ_ONLY_COLUMNS[1:], "residence_permit_on", "birth_date"):
            text = values.get(column, "")
            if not text:
                continue
            try:
                day, precision = parse_date(text, year_allowed=column == "birth_date")
            except ValueError as error:
                self._error(row, column, str(error))
                values.pop(column)
                continue
            dates[column] = day
            if column == "birth_date":
                given = values.get("birth_date_precision", "")
                if precision == DatePrecision.YEAR and given == DatePrecision.EXACT:
                    self._error(
                        row,
                        "birth_date_precision",
                        _("The birth date is a year alone; write “year” here or leave it empty."),
                    )
                if given == DatePrecision.YEAR:
                    precision = DatePrecision.YEAR
                    day = day.replace(month=1, day=1)
                values["birth_date_precision"] = precision
                if day > self.today:
                    self._error(row, column, _("The date of birth is in the future."))
            values[column] = day
        if "birth_date" not in dates:
            values["birth_date"] = None
            values.setdefault("birth_date_precision", DatePrecision.EXACT)
            if not values["birth_date_precision"]:
                values["birth_date_precision"] = DatePrecision.EXACT
        for column in (*READ_ONLY_COLUMNS[1:], "residence_permit_on"):
            values.setdefault(column, None)
            if values[column] == "":
                values[column] = None

    # -- look-ups, one set of queries per chunk

    def _look_up(self, rows: list[_Row]) -> dict:
        person_ids = {int(r.values["person_id"]) for r in rows if r.values.get("person_id")}
        references = {
            r.values["household_reference"] for r in rows if r.values.get("household_reference")
        }
        references -= set(self.households)
        iins = {r.values["iin"] for r in rows if r.values.get("iin")}
        documents = {normalise_document_number(r.values.get("document_number", "")) for r in rows}
        documents.discard("")
        persons = {
            p.pk: p
            for p in self.visible_persons().filter(pk__in=person_ids).select_related("household")
        }
        households: dict[str, list[Household]] = {}
        for household in (
            self.visible_households().filter(reference__in=references).select_related("program")
        ):
            if household.pk not in self.created_household_ids:
                households.setdefault(household.reference, []).append(household)
        by_iin = {p.iin: p for p in Person.objects.filter(iin__in=iins).only("pk", "iin")}
        by_document: dict[str, list] = {}
        for person in (
            Person.objects.filter(document_key__in=documents)
            .exclude(pk__in=person_ids)
            .select_related("household")
        ):
            if person.pk not in self.created_person_ids:
                by_document.setdefault(person.document_key, []).append(person)
        by_name: dict[str, list] = {}
        wanted = set()
        for row in rows:
            v = row.values
            if not v.get("person_id") and v.get("birth_date"):
                key = name_key(
                    v.get("surname") or v.get("surname_latin", ""),
                    v.get("given_name") or v.get("given_name_latin", ""),
                )
                v["name_key"] = key
                if key:
                    wanted.add((key, v["birth_date"].year))
        for person in _people_named(sorted(wanted), fields=NAMED_FIELDS):
            if person.pk not in self.created_person_ids:
                by_name.setdefault(_person_name_key(person), []).append(person)
        return {
            "persons": persons,
            "households": households,
            "by_iin": by_iin,
            "by_document": by_document,
            "by_name": by_name,
        }

    # -- per-row checks and plans

    def _household_values(self, v: dict) -> dict:
        program = self.programs.get(v.get("program", ""))
        group = self.groups.get((program.pk, v["group"])) if program and v.get("group") else None
        region = self.regions.get(v.get("destination_region", ""))
        return {
            "program_id": program.pk if program else None,
            "group_id": group.pk if group else None,
            "origin_country_id": v.get("origin_country") or None,
            "origin_area": v.get("origin_area", ""),
            "destination_region_id": region.pk if region else None,
            "quota_year": int(v["quota_year"]) if v.get("quota_year") else None,
            "application_channel": v.get("application_channel", ""),
            "residence_permit_on": v.get("residence_permit_on"),
        }

    def _plan_household(self, row: _Row, lookups: dict) -> _HouseholdPlan | None:
        v = row.values
        if "household_reference" not in v:
            return None
        reference = v["household_reference"]
        key = reference or f"\x00line-{row.line}"
        plan = self.households.get(key)
        values = self._household_values(v)
        if plan is None:
            existing = None
            if reference:
                candidates = lookups["households"].get(reference, [])
                program = self.programs.get(v.get("program", ""))
                matching = [h for h in candidates if program is None or h.program_id == program.pk]
                if candidates and not matching:
                    self._error(
                        row,
                        "program",
                        _(
                            "Household %(ref)s belongs to %(program)s; a case does not change program."
                        )
                        % {"ref": reference, "program": candidates[0].program.code},
                    )
                    return None
                existing = matching[0] if matching else None
            plan = _HouseholdPlan(key=key, line=row.line, values=values, existing=existing)
            self.households[key] = plan
            if row.errors == 0:
                self._open_or_update_household(row, plan)
            else:
                plan.values = {}  # its first row is wrong; the errors are already reported
        elif plan.values:
            for name, value in values.items():
                if plan.values.get(name) != value:
                    column = _COLUMN_OF_FIELD.get(name, name.removesuffix("_id"))
                    self._error(
                        row,
                        column,
                        _(
                            "The household's columns differ from its first row (line %(line)d); "
                            "every member's row must repeat the same household values."
                        )
                        % {"line": plan.line},
                    )
                    break
        self._check_read_only(row, plan)
        return plan

    def _check_read_only(self, row: _Row, plan: _HouseholdPlan) -> None:
        v = row.values
        existing = plan.existing
        status = v.get("household_status", "")
        if existing is None:
            if status and status != CaseStatus.DRAFT:
                self._error(
                    row,
                    "household_status",
                    _(
                        "A new household starts as a draft; leave the status empty and use “Change status”."
                    ),
                )
            for column in READ_ONLY_COLUMNS[1:]:
                if v.get(column):
                    self._error(
                        row,
                        column,
                        _(
                            "A new household starts as a draft: leave %(column)s empty; the case's "
                            "dates are set by its status changes."
                        )
                        % {"column": column},
                    )
            return
        if status and status != existing.status:
            self._error(
                row,
                "household_status",
                _(
                    "The status of %(ref)s is “%(status)s”; the import does not change it. Use "
                    "“Change status” on the case, or leave the column as exported."
                )
                % {"ref": existing.reference, "status": existing.status},
            )
        for column in READ_ONLY_COLUMNS[1:]:
            if v.get(column) and v[column] != getattr(existing, column):
                stored = getattr(existing, column)
                self._error(
                    row,
                    column,
                    _(
                        "%(column)s of %(ref)s is %(stored)s; case dates change only through "
                        "“Change status”. Leave the column as exported or empty."
                    )
                    % {"column": column, "ref": existing.reference, "stored": stored or _("empty")},
                )

    def _check_quota(self, row: _Row, plan: _HouseholdPlan) -> bool:
        """The quota ledger owns ``quota_year``: see the module docstring. False on an error."""
        values, existing = plan.values, plan.existing
        wanted = values["quota_year"]
        if existing is None:
            if wanted:
                self._error(
                    row,
                    "quota_year",
                    _(
                        "A new family joins a regional quota from its page (“Place in quota”), "
                        "which checks and reserves the places; leave quota_year empty."
                    ),
                )
                return False
            return True
        if wanted and wanted != existing.quota_year:
            self._error(
                row,
                "quota_year",
                _(
                    "The quota year of %(ref)s is %(stored)s; it changes only through “Place in "
                    "quota” or “Release the places” on its page. Leave the column as exported "
                    "or empty."
                )
                % {"ref": existing.reference, "stored": existing.quota_year or _("empty")},
            )
            return False
        if existing.quota_year and not values["destination_region_id"]:
            self._error(
                row, "destination_region", _("A family in the quota needs a destination region.")
            )
            return False
        if values["destination_region_id"] != existing.destination_region_id:
            held = (
                QuotaPlacement.objects.filter(household=existing, status=PlacementStatus.RESERVED)
                .select_related("quota__region")
                .first()
            )
            if held is not None:
                self._error(
                    row,
                    "destination_region",
                    _(
                        "%(ref)s holds %(places)d place(s) in %(quota)s; release them on its page "
                        "before moving it to another region."
                    )
                    % {"ref": existing.reference, "places": held.places, "quota": held.quota},
                )
                return False
        return True

    def _open_or_update_household(self, row: _Row, plan: _HouseholdPlan) -> None:
        values = plan.values
        if not self._check_quota(row, plan):
            plan.values = {}
            return
        if plan.existing is None:
            household = Household(**values)
            self.result.households_created += 1
            self._change(
                row.line, "create", "household", row.values.get("household_reference", ""), {}
            )
            if self.writing:
                # Opened in bulk with the chunk's people (services.cases.open_cases).
                plan.household = household
                self.pending_households.append(household)
            return
        household = plan.existing
        changed = {}
        for name in HOUSEHOLD_FIELDS:
            if getattr(household, name) != values[name]:
                changed[_COLUMN_OF_FIELD.get(name, name)] = [
                    _show(getattr(household, name)),
                    _show(values[name]),
                ]
        permit = values["residence_permit_on"]
        if permit and household.citizenship_on and permit > household.citizenship_on:
            self._error(
                row,
                "residence_permit_on",
                _("Citizenship cannot come before the residence permit (citizenship: %(date)s).")
                % {"date": household.citizenship_on},
            )
            plan.values = {}
            return
        plan.household = household
        if not changed:
            self.result.households_unchanged += 1
            return
        self.result.households_updated += 1
        self._change(row.line, "update", "household", household.reference, changed)
        if self.writing:
            for name in HOUSEHOLD_FIELDS:
                setattr(household, name, values[name])
            household._history_user = (
                self.user if self.user and self.user.is_authenticated else None
            )
            household.save()

    def _check_row(self, row: _Row, lookups: dict, new_people: list, updated_people: list) -> None:
        v = row.values
        plan = self._plan_household(row, lookups)
        # The same person twice in the file.
        person_id = int(v["person_id"]) if v.get("person_id") else None
        for value, seen, column, label in (
            (person_id, self.seen_person_ids, "person_id", gettext_lazy("person_id")),
            (v.get("iin"), self.seen_iins, "iin", gettext_lazy("IIN")),
            (
                normalise_document_number(v.get("document_number", "")),
                self.seen_documents,
                "document_number",
                gettext_lazy("document number"),
            ),
        ):
            if not value:
                continue
            if value in seen:
                self._error(
                    row,
                    column,
                    _("The same person twice in the file: line %(line)d has the same %(what)s.")
                    % {"line": seen[value], "what": label},
                )
            else:
                seen[value] = row.line
        person = None
        if person_id is not None:
            person = lookups["persons"].get(person_id)
            if person is None:
                self._error(
                    row,
                    "person_id",
                    _("There is no person %(id)s; leave person_id empty to add a new person.")
                    % {"id": person_id},
                )
            elif plan is not None and (
                plan.existing is None or person.household_id != plan.existing.pk
            ):
                self._error(
                    row,
                    "household_reference",
                    _(
                        "Person %(id)s belongs to household %(ref)s; the import does not move "
                        "people between households."
                    )
                    % {"id": person_id, "ref": person.household.reference},
                )
        iin = v.get("iin")
        if iin:
            holder = lookups["by_iin"].get(iin)
            if (
                holder is not None
                and holder.pk != person_id
                and holder.pk not in self.created_person_ids
            ):
                self._error(
                    row,
                    "iin",
                    _(
                        "Person %(id)s already has this IIN. To update that person, put %(id)s in "
                        "person_id."
                    )
                    % {"id": holder.pk},
                )
        birth = v.get("birth_date")
        if birth and plan is not None:
            arrived = v.get("arrived_on") or (plan.existing.arrived_on if plan.existing else None)
            if arrived and birth > arrived:
                self._error(
                    row,
                    "birth_date",
                    _("Born %(birth)s, after the household arrived (%(arrived)s).")
                    % {"birth": birth, "arrived": arrived},
                )
        if plan is not None and v.get("relation") == Relation.HEAD:
            plan.heads += 1
            plan.head_lines.append(row.line)
        if plan is not None and person is not None:
            plan.updated_person_ids.add(person.pk)
        if row.errors or plan is None:
            return
        if person is None:
            if plan.existing is not None:
                moves = self.members_changed.setdefault(plan.existing.pk, [0, 0])
                moves[1] += v.get("member_status") not in GONE
            new = Person(**self._person_values(v))
            duplicates = self._duplicates(row, new, lookups)
            duplicates += self._duplicates_in_file(row, new)
            new_people.append((row, new, duplicates, plan))
            self._change(row.line, "create", "person", lambda: _display_name(new), {})
            return
        before = {name: getattr(person, name) for name in PERSON_FIELDS}
        for name, value in self._person_values(v).items():
            setattr(person, name, value)
        person.refresh_derived_fields()
        changed = {
            _COLUMN_OF_FIELD.get(name, name): [_show(before[name]), _show(getattr(person, name))]
            for name in PERSON_FIELDS
            if before[name] != getattr(person, name)
        }
        if changed:
            gone_before, gone_now = before["member_status"] in GONE, person.member_status in GONE
            if gone_before != gone_now:  # left or died, or came back
                moves = self.members_changed.setdefault(person.household_id, [0, 0])
                moves[0 if gone_now else 1] += 1
            self.result.persons_updated += 1
            self._change(
                row.line,
                "update",
                "person",
                lambda: f"{person_id} {_display_name(person)}",
                changed,
            )
            updated_people.append(person)
        else:
            self.result.persons_unchanged += 1

    def _person_values(self, v: dict) -> dict:
        return {
            "relation": v["relation"],
            "surname": v.get("surname", ""),
            "given_name": v.get("given_name", ""),
            "patronymic": v.get("patronymic", ""),
            "surname_latin": v.get("surname_latin", ""),
            "given_name_latin": v.get("given_name_latin", ""),
            "patronymic_latin": v.get("patronymic_latin", ""),
            "sex": v["sex"],
            "birth_date": v.get("birth_date"),
            "birth_date_precision": v.get("birth_date_precision") or DatePrecision.EXACT,
            "citizenship_id": v.get("citizenship") or None,
            "document_type": v.get("document_type", ""),
            "document_number": v.get("document_number", ""),
            "iin": v.get("iin", ""),
            "education": v.get("education", ""),
            "occupation": v.get("occupation", ""),
            "languages": v.get("languages", ""),
            "phone": v.get("phone", ""),
            "member_status": v.get("member_status") or MemberStatus.ABROAD,
        }

    def _duplicates(self, row: _Row, new: Person, lookups: dict) -> list[tuple[Person, str]]:
        found: dict[int, tuple[Person, str]] = {}
        document = normalise_document_number(new.document_number)
        for other in lookups["by_document"].get(document, []) if document else []:
            found[other.pk] = (other, DuplicateReason.DOCUMENT)
        key = row.values.get("name_key")
        for other in lookups["by_name"].get(key, []) if key and new.birth_date else []:
            if other.pk not in found and _same_birth(
                new.birth_date,
                new.birth_date_precision,
                other.birth_date,
                other.birth_date_precision,
            ):
                found[other.pk] = (other, DuplicateReason.NAME_BIRTH)
        for other, reason in found.values():
            if len(self.result.duplicates) < MAX_LISTED:
                self.result.duplicates.append(
                    {
                        "line": row.line,
                        "name": _display_name(new),
                        "reason": str(DuplicateReason(reason).label),
                        "other_id": other.pk,
                        "other_name": _display_name(other),
                        "other_birth": other.birth_display,
                        "other_reference": other.household.reference,
                    }
                )
        return list(found.values())

    def _duplicates_in_file(self, row: _Row, new: Person) -> list[tuple[_NewPerson, str]]:
        """The first earlier row of this file that is likely the same new person, by name and
        birth (the same IIN or document number twice is an error, checked apart). Both rows are
        imported and the pair is queued for review, as with a likely duplicate on record. One
        pair per row: a name repeated n times gives n - 1 pairs to review, not n² / 2."""
        key = row.values.get("name_key")
        if not key or new.birth_date is None:
            return []
        found = []
        earlier_rows = self.new_by_name.setdefault(key, [])
        for earlier in earlier_rows:
            if _same_birth(
                new.birth_date, new.birth_date_precision, earlier.birth, earlier.precision
            ):
                found.append((earlier, DuplicateReason.NAME_BIRTH))
                if len(self.result.duplicates) < MAX_LISTED:
                    self.result.duplicates.append(
                        {
                            "line": row.line,
                            "name": _display_name(new),
                            "reason": str(DuplicateReason.NAME_BIRTH.label),
                            "other_id": None,
                            "other_line": earlier.line,
                            "other_name": earlier.display,
                        }
                    )
                break
        entry = _NewPerson(row.line, new.birth_date, new.birth_date_precision, new)
        earlier_rows.append(entry)
        self.new_this_chunk.append(entry)
        return found

    def _change(
        self, line: int, action: str, kind: str, what: str | Callable[[], str], fields: dict
    ) -> None:
        """List a change for the preview (the first ``MAX_LISTED``; ``what`` may be a function,
        called only for those)."""
        if len(self.result.changes) < MAX_LISTED:
            self.result.changes.append(
                {
                    "line": line,
                    "action": action,
                    "kind": kind,
                    "what": what() if callable(what) else what,
                    "fields": fields,
                }
            )

    # -- writing

    def _write(self, new_people: list, updated_people: list) -> None:
        user = self.user if self.user and self.user.is_authenticated else None
        try:
            # A savepoint: on PostgreSQL a refused INSERT would abort the whole transaction,
            # and the rest of the file is still checked (and reported) after it.
            with transaction.atomic():
                if self.pending_households:
                    open_cases(households=self.pending_households, by=user, on=self.today)
                    self.created_household_ids.update(h.pk for h in self.pending_households)
                    self.pending_households = []
                if new_people:
                    objects = []
                    for _row, person, _dups, plan in new_people:
                        person.household_id = plan.household.pk
                        person.refresh_derived_fields()
                        objects.append(person)
                    create_with_history(objects, user=user)
                    self.created_person_ids.update(p.pk for p in objects)
                    self.result.persons_created += len(objects)
                    # New people: no pair can exist yet (COPY on PostgreSQL, as the people).
                    create_objects(
                        [
                            DuplicateCandidate(
                                person=person, other_id=other.pk, reason=reason, batch=self.batch
                            )
                            for _row, person, duplicates, _plan in new_people
                            for other, reason in duplicates
                        ]
                    )
                if updated_people:
                    bulk_update_with_history(
                        updated_people,
                        Person,
                        fields=[*PERSON_FIELDS, "search_key", "document_key"],
                        batch_size=500,
                        default_user=user,
                    )
                # Bulk writes send no signals: the member counts the lists and reports read
                # are recomputed once, at the end of the file (see ``run``).
                self.touched_household_ids.update(
                    plan.household.pk for _row, _person, _dups, plan in new_people
                )
                self.touched_household_ids.update(p.household_id for p in updated_people)
        except IntegrityError as error:
            self.result.add_error(
                new_people[0][0].line if new_people else None,
                "",
                _("The database refused rows of this part of the file: %(error)s")
                % {"error": error},
            )

    def _check_heads(self) -> None:
        existing_plans = [
            p for p in self.households.values() if p.existing is not None and p.values
        ]
        stored_heads: dict[int, list[int]] = {}
        ids = [p.existing.pk for p in existing_plans]
        for start in range(0, len(ids), 500):
            for pk, household_id in Person.objects.filter(
                household_id__in=ids[start : start + 500], relation=Relation.HEAD
            ).values_list("pk", "household_id"):
                stored_heads.setdefault(household_id, []).append(pk)
        for plan in self.households.values():
            if not plan.values:
                continue
            heads = plan.heads
            if plan.existing is not None:
                heads += sum(
                    1
                    for pk in stored_heads.get(plan.existing.pk, [])
                    if pk not in plan.updated_person_ids
                )
            if heads == 1:
                continue
            what = plan.existing.reference if plan.existing else plan.key.split("\x00")[-1]
            if heads == 0:
                message = _(
                    "Household %(what)s (first row on line %(line)d) has no head; one member's relation must be “head”."
                )
            else:
                message = _(
                    "Household %(what)s (first row on line %(line)d) has %(count)d heads; it must have exactly one."
                )
            self.result.add_error(
                plan.head_lines[-1] if plan.head_lines else plan.line,
                "relation",
                message % {"what": what, "line": plan.line, "count": heads},
            )


def _show(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _display_name(person: Person) -> str:
    latin = " ".join(p for p in (person.surname_latin, person.given_name_latin) if p)
    cyrillic = " ".join(p for p in (person.surname, person.given_name) if p)
    born = person.birth_display
    name = cyrillic or latin
    return f"{name} ({born})" if born else name


# --- the public services -------------------------------------------------------------------


class _RollbackError(Exception):
    pass


def run_import(
    *,
    text: str,
    delimiter: str,
    user: User,
    commit: bool,
    batch: ImportBatch | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Check (and when ``commit``, write) one decoded file; all or nothing.

    Raises :class:`ImportFileError` when the file as a whole is unusable (header, empty).
    """
    importer = _Importer(user=user, commit=commit, progress=progress)
    importer.batch = batch
    if not commit:
        with fewer_collections():
            return importer.run(text, delimiter)
    try:
        with fewer_collections(), transaction.atomic():
            result = importer.run(text, delimiter)
            if result.error_count:
                raise _RollbackError
            result.committed = True
    except _RollbackError:
        result = importer.result
        # Counters described writes that were rolled back.
        result.households_created = result.persons_created = 0
        result.households_updated = result.persons_updated = 0
    return result


def create_batch(*, data: bytes, file_name: str, user: User) -> ImportBatch:
    """Store an uploaded file and check it (a dry run); the batch holds the preview or the errors.

    Nothing but the ``ImportBatch`` row is written. A file over ``IMPORT_MAX_BYTES`` is not kept.
    """
    batch = ImportBatch(
        file_name=file_name[:255],
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        created_by=user if user and user.is_authenticated else None,
    )
    try:
        text, encoding = decode_upload(data)
        batch.text, batch.encoding = text, encoding
        batch.delimiter = detect_delimiter(text)
        result = run_import(text=text, delimiter=batch.delimiter, user=user, commit=False)
    except ImportFileError as error:
        batch.errors = [{"line": None, "column": "", "message": str(error)}]
        batch.summary = {"error_count": 1}
        batch.status = ImportStatus.INVALID
        batch.save()
        return batch
    _store_result(batch, result)
    batch.status = ImportStatus.INVALID if result.error_count else ImportStatus.READY
    already = ImportBatch.objects.filter(sha256=batch.sha256, status=ImportStatus.COMMITTED).first()
    if already is not None:
        batch.summary["already_imported"] = already.pk
    batch.save()
    return batch


def _store_result(batch: ImportBatch, result: ImportResult) -> None:
    batch.summary = result.summary()
    batch.errors = result.errors
    batch.rows_total = result.rows


def progress_key(batch_pk: int) -> str:
    """The cache key of a running import's progress (rows processed so far)."""
    return f"import-progress-{batch_pk}"


def rows_done(batch: ImportBatch) -> int:
    """Rows processed so far: while the batch is importing, the count its thread keeps in the
    cache (the import's transaction hides its own writes from other requests)."""
    if batch.status == ImportStatus.IMPORTING:
        return int(cache.get(progress_key(batch.pk), batch.rows_done))
    return batch.rows_done


def commit_batch(
    *, batch: ImportBatch, user: User, background: bool = False
) -> ImportResult | None:
    """Write a checked batch in one transaction; returns ``None`` (writing nothing) when this
    batch or another upload of the same file was already committed.

    When the data changed since the preview and a row is now wrong, nothing is written and
    the batch holds the new errors. ``background`` is for :func:`start_commit_in_background`'s
    thread: the batch is then expected to be ``importing`` (claimed) rather than ``ready``.
    """
    expected = ImportStatus.IMPORTING if background else ImportStatus.READY
    with transaction.atomic():
        locked = ImportBatch.objects.select_for_update().get(pk=batch.pk)
        if locked.status == ImportStatus.COMMITTED or (
            ImportBatch.objects.filter(sha256=locked.sha256, status=ImportStatus.COMMITTED)
            .exclude(pk=locked.pk)
            .exists()
        ):
            return None
        if locked.status != expected:
            return None

        last_shown = [0.0]

        def progress(done: int) -> None:
            # Outside the transaction: other requests (the progress page) read it. The page
            # asks every few seconds; writing the cache more than twice a second is wasted.
            now = time.monotonic()
            if now - last_shown[0] >= PROGRESS_EVERY_S:
                last_shown[0] = now
                cache.set(progress_key(locked.pk), done, timeout=24 * 3600)

        result = run_import(
            text=locked.text,
            delimiter=locked.delimiter,
            user=user,
            commit=True,
            batch=locked,
            progress=progress,
        )
        _store_result(locked, result)
        locked.rows_done = result.rows
        if result.committed:
            locked.status = ImportStatus.COMMITTED
            locked.committed_at = timezone.now()
            locked.committed_by = user if user and user.is_authenticated else None
            log_access(
                user=user,
                kind="import",
                what="households.csv",
                object_id=str(locked.pk),
                filters={"file": locked.file_name, "sha256": locked.sha256},
                row_count=result.rows,
            )
        else:
            locked.status = ImportStatus.INVALID
        locked.save()
    batch.refresh_from_db()
    return result


def start_commit_in_background(
    batch: ImportBatch, user: User, *, language: str | None = None
) -> threading.Thread | None:
    """Claim a ``ready`` batch (status ``importing``) and write it in a new thread.

    Returns the started thread, or ``None`` (starting nothing) when the batch is not ``ready``
    — already importing, imported, invalid — or the same file was already imported. The claim
    is one conditional ``UPDATE``, so two confirmations cannot both start a thread. Whatever
    happens in the thread, the batch ends ``committed`` or ``invalid`` with the reason, never
    ``importing``.
    """
    if (
        ImportBatch.objects.filter(sha256=batch.sha256, status=ImportStatus.COMMITTED)
        .exclude(pk=batch.pk)
        .exists()
    ):
        return None
    claimed = ImportBatch.objects.filter(pk=batch.pk, status=ImportStatus.READY).update(
        status=ImportStatus.IMPORTING, rows_done=0, claimed_at=timezone.now()
    )
    if not claimed:
        return None
    cache.set(progress_key(batch.pk), 0, timeout=24 * 3600)
    batch.refresh_from_db()
    thread = threading.Thread(
        target=_commit_in_thread,
        args=(batch.pk, user, language or translation.get_language()),
        name=f"import-batch-{batch.pk}",
        daemon=False,
    )
    _threads[batch.pk] = thread
    thread.start()
    return thread


#: The threads started by :func:`start_commit_in_background` that are still running, by batch.
_threads: dict[int, threading.Thread] = {}


def background_thread(batch_pk: int) -> threading.Thread | None:
    """The thread writing this batch, while it runs (tests join it)."""
    return _threads.get(batch_pk)


#: How long a claimed import may take to start its transaction, which locks the batch's row.
START_GRACE = dt.timedelta(minutes=1)


def recover_interrupted(batch: ImportBatch) -> bool:
    """Put a batch left ``importing`` by an import that died (the server restarted, a worker
    was killed) back to ``ready``, so it can be confirmed again; returns whether it did.

    Nothing of such an import was written: it runs in one transaction, which holds the batch's
    row lock (``commit_batch``) until it commits or rolls back. So a batch that says
    ``importing``, was claimed more than :data:`START_GRACE` ago, has no thread in this process
    and whose row no transaction holds is no longer being imported. (SQLite has no row locks:
    there only this process's own threads are seen, as with the development server.)
    """
    if batch.status != ImportStatus.IMPORTING or background_thread(batch.pk) is not None:
        return False
    if batch.claimed_at is not None and timezone.now() - batch.claimed_at < START_GRACE:
        return False
    with transaction.atomic():
        free = (
            ImportBatch.objects.select_for_update(skip_locked=True)
            .filter(pk=batch.pk, status=ImportStatus.IMPORTING)
            .first()
        )
        if free is None:  # a running import holds it (or it has just finished)
            return False
        free.status = ImportStatus.READY
        free.rows_done = 0
        free.claimed_at = None
        free.save(update_fields=["status", "rows_done", "claimed_at"])
    cache.delete(progress_key(batch.pk))
    batch.refresh_from_db()
    return True


def _commit_in_thread(batch_pk: int, user: User, language: str | None) -> None:
    failure = ""
    try:
        with translation.override(language):
            try:
                batch = ImportBatch.objects.get(pk=batch_pk)
                result = commit_batch(batch=batch, user=user, background=True)
                if result is None:
                    failure = _("This file has already been imported; nothing was written.")
            except Exception as error:
                logger.exception("Import %s failed", batch_pk)
                reason = str(error) if isinstance(error, ImportFileError) else type(error).__name__
                failure = _("The import failed (%(error)s); nothing was written.") % {
                    "error": reason
                }
            if failure:
                # Any batch still "importing" here did not finish: record why.
                ImportBatch.objects.filter(pk=batch_pk, status=ImportStatus.IMPORTING).update(
                    status=ImportStatus.INVALID,
                    errors=[{"line": None, "column": "", "message": str(failure)}],
                    summary={"error_count": 1},
                )
    finally:
        cache.delete(progress_key(batch_pk))
        _threads.pop(batch_pk, None)
        connections.close_all()
