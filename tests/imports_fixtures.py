"""Helpers for the import tests: a persons CSV written from the database, and sample families.

``persons_csv_rows`` writes the format of ``/exports/persons.csv`` (csv_format.PERSON_COLUMNS,
cells escaped with escape_cell). When the real exporter exists (``resettlement.exports``,
merged from the reports branch), ``exported_persons`` and so the round-trip tests use it instead.
"""

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator

from resettlement.csv_format import PERSON_COLUMNS, PLAIN, escape_cell
from resettlement.enums import DatePrecision
from resettlement.models import Country, Group, Household, Person, Program, Region
from resettlement.services.cases import open_case
from resettlement.validators import make_iin


def _iso(day: dt.date | None) -> str:
    return day.isoformat() if day else ""


def person_row(person: Person) -> list[str]:
    household = person.household
    birth = ""
    if person.birth_date:
        birth = (
            str(person.birth_date.year)
            if person.birth_date_precision == DatePrecision.YEAR
            else person.birth_date.isoformat()
        )
    values = {
        "person_id": person.pk,
        "household_reference": household.reference,
        "program": household.program.code,
        "group": household.group.name if household.group else "",
        "household_status": household.status,
        "origin_country": household.origin_country_id,
        "origin_area": household.origin_area,
        "destination_region": household.destination_region.code
        if household.destination_region
        else "",
        "quota_year": household.quota_year or "",
        "application_channel": household.application_channel,
        "applied_on": _iso(household.applied_on),
        "decided_on": _iso(household.decided_on),
        "arrived_on": _iso(household.arrived_on),
        "status_granted_on": _iso(household.status_granted_on),
        "status_expires_on": _iso(household.status_expires_on),
        "residence_permit_on": _iso(household.residence_permit_on),
        "citizenship_on": _iso(household.citizenship_on),
        "relation": person.relation,
        "surname": person.surname,
        "given_name": person.given_name,
        "patronymic": person.patronymic,
        "surname_latin": person.surname_latin,
        "given_name_latin": person.given_name_latin,
        "patronymic_latin": person.patronymic_latin,
        "sex": person.sex,
        "birth_date": birth,
        "birth_date_precision": person.birth_date_precision,
        "citizenship": person.citizenship_id or "",
        "document_type": person.document_type,
        "document_number": person.document_number,
        "iin": person.iin,
        "education": person.education,
        "occupation": person.occupation,
        "languages": person.languages,
        "phone": person.phone,
        "member_status": person.member_status,
    }
    return [escape_cell(values[c]) for c in PERSON_COLUMNS]


def persons_csv_rows(queryset: Iterable[Person]) -> Iterator[list[str]]:
    """The header, then one row per person (the stand-in for the real exporter)."""
    yield list(PERSON_COLUMNS)
    for person in queryset:
        yield person_row(person)


def exported_persons() -> list[list[str]]:
    """Every person as the persons export writes them: through the real exporter
    (``resettlement.exports.queryset_lines``) when it is there, else ``persons_csv_rows``."""
    queryset = Person.objects.select_related(
        "household__program", "household__group", "household__destination_region"
    ).order_by("household_id", "id")
    try:
        from resettlement.exports import person_export_columns, queryset_lines
    except ImportError:
        return list(persons_csv_rows(queryset))
    lines = queryset_lines(queryset, person_export_columns(), PLAIN)
    return parse_csv("".join(x.decode() if isinstance(x, bytes) else x for x in lines))


def to_csv(rows: Iterable[list[str]], delimiter: str = ",") -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerows(rows)
    return out.getvalue()


def parse_csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def blank_row(**cells: str) -> list[str]:
    """A row for a new person in a new household, with the given cells filled."""
    row = dict.fromkeys(PERSON_COLUMNS, "")
    row.update(
        program="KZ-KANDAS",
        origin_country="AF",
        origin_area="Balkh",
        relation="head",
        surname="Ахметов",
        given_name="Ерлан",
        sex="M",
        birth_date="1975",
        member_status="abroad",
    )
    row.update(cells)
    return [row[c] for c in PERSON_COLUMNS]


def make_family(
    *, surname: str = "Масадыков", size: int = 3, iin_start: str = "80010130012", **fields
) -> Household:
    program = Program.objects.get(code="KZ-KANDAS")
    group, _ = Group.objects.get_or_create(
        program=program, name="Flight 1", defaults={"origin_country_id": "AF"}
    )
    household = open_case(
        household=Household(
            program=program,
            origin_country=Country.objects.get(code="AF"),
            origin_area="Balkh, Mazar-i-Sharif",
            destination_region=Region.objects.get(code="KZ-55"),
            group=group,
            application_channel="evacuation",
            **fields,
        ),
        by=None,
        on=dt.date(2021, 9, 9),
    )
    Person.objects.create(
        household=household,
        relation="head",
        surname=surname,
        given_name="Нурлан",
        sex="M",
        birth_date=dt.date(1980, 1, 1),
        birth_date_precision="year",
        iin=make_iin(iin_start),
        document_type="passport",
        document_number=f"P {iin_start[:7]}",
        citizenship_id="AF",
        languages="Kazakh, Dari",
        phone="+77011234567",
    )
    for index in range(1, size):
        Person.objects.create(
            household=household,
            relation="child",
            surname=surname,
            given_name=f"Бала{index}",
            sex="F",
            birth_date=dt.date(2010, 5, index),
            member_status="abroad",
        )
    return household
