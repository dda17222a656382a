"""Retention: anonymise the people of cases closed long ago, keeping what the reports count.

What goes: names in both scripts, document and IIN, phone, occupation, the area of origin and
free-text notes and reasons, in the live tables and in every history row. What stays: program,
status and dates of the case, region, quota year, sex, birth year, education, member status,
citizenship — the amounts and counts of the reports. A case is done once (``anonymised_on``),
so a second run changes nothing; each run is logged as a ``RetentionRun``.
"""

import datetime as dt

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from ..enums import CaseStatus, DatePrecision
from ..models import Household, Person, RetentionRun, StatusChange
from .summaries import refresh_household_summaries

ANONYMISED_SURNAME = "ANONYMISED"

#: Person fields emptied (in ``Person`` and ``HistoricalPerson``).
PERSON_BLANKED = (
    "surname",
    "given_name",
    "patronymic",
    "given_name_latin",
    "patronymic_latin",
    "document_type",
    "document_number",
    "iin",
    "occupation",
    "languages",
    "phone",
)
HOUSEHOLD_BLANKED = ("origin_area", "notes", "certificate_number")


def closed_cases_due(*, older_than_days: int, today: dt.date | None = None):
    """Households closed on or before ``today - older_than_days`` and not yet anonymised."""
    cutoff = (today or timezone.localdate()) - dt.timedelta(days=older_than_days)
    closed_long_ago = StatusChange.objects.filter(
        household=OuterRef("pk"), to_status=CaseStatus.CLOSED, effective_on__lte=cutoff
    )
    households = Household.objects.filter(
        status=CaseStatus.CLOSED, anonymised_on__isnull=True
    ).filter(Exists(closed_long_ago))
    return households, cutoff


def _anonymised_person_fields(person) -> dict:
    fields = dict.fromkeys(PERSON_BLANKED, "")
    fields["surname_latin"] = ANONYMISED_SURNAME
    if person.birth_date:
        fields["birth_date"] = person.birth_date.replace(month=1, day=1)
        fields["birth_date_precision"] = DatePrecision.YEAR
    return fields


@transaction.atomic
def anonymise_closed_cases(
    *, older_than_days: int, by: AbstractBaseUser | None = None, today: dt.date | None = None
) -> RetentionRun:
    """Anonymise every case closed more than ``older_than_days`` ago; log and return the run."""
    households, cutoff = closed_cases_due(older_than_days=older_than_days, today=today)
    household_ids = list(households.select_for_update().values_list("pk", flat=True))
    people = list(Person.objects.filter(household__in=household_ids))
    history_rows = 0

    for person in people:
        for name, value in _anonymised_person_fields(person).items():
            setattr(person, name, value)
        person.refresh_derived_fields()
    if people:
        Person.objects.bulk_update(
            people,
            [
                *PERSON_BLANKED,
                "surname_latin",
                "birth_date",
                "birth_date_precision",
                "search_key",
                "document_key",
            ],
        )
        # The head's names shown in the household list are blanked too (bulk: no signals).
        refresh_household_summaries(household_ids)
    # Every earlier version of these people, row by row (each has its own birth date).
    for historical in Person.history.filter(household_id__in=household_ids):
        for name, value in _anonymised_person_fields(historical).items():
            setattr(historical, name, value)
        historical.save(update_fields=[*_anonymised_person_fields(historical)])
        history_rows += 1

    blank_household = dict.fromkeys(HOUSEHOLD_BLANKED, "")
    on = today or timezone.localdate()
    Household.objects.filter(pk__in=household_ids).update(**blank_household, anonymised_on=on)
    history_rows += Household.history.filter(id__in=household_ids).update(
        **blank_household, anonymised_on=on
    )
    # Reasons are free text and may name people; the status rows themselves stay.
    StatusChange.objects.filter(household__in=household_ids).exclude(reason="").update(reason="")

    return RetentionRun.objects.create(
        by=by,
        older_than_days=older_than_days,
        closed_before=cutoff,
        households=len(household_ids),
        persons=len(people),
        history_rows=history_rows,
    )
