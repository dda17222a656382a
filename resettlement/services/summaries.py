"""Keeping ``HouseholdSummary`` rows right: recomputed by every write that changes them.

:func:`refresh_household_summaries` recomputes the rows of some households (or all) in the
database, in two statements, with the very expressions the reports used over people
(``selectors.reports.with_age_band`` for the age on arrival). It is called

- by signals, after any ``save()``/``delete()`` of a person (both households when a person
  moves), any ``save()`` of a household (its arrival date and program decide the age bands), and
  any change of ``AgeBandLimits`` (every household of that program);
- explicitly by the bulk writers that bypass signals: the CSV import, anonymisation, the demo
  and synthetic data. A new bulk writer of people must call it too (``tests/test_summaries.py``
  checks the known ones).

``manage.py refresh_report_summaries`` recomputes everything (after a restore or a raw SQL fix).
"""

from collections.abc import Iterable

from django.db import connection, transaction
from django.db.models import (
    FilteredRelation,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from ..enums import Education, MemberStatus, Relation
from ..models import AgeBandLimits, Household, HouseholdSummary, Person
from ..models.summaries import (
    AGE_BAND_CODES,
    COUNTERS,
    HEAD_NAMES,
    SEXES,
)
from .locks import HOUSEHOLD_SUMMARY, recompute_in_turn

GONE = (MemberStatus.LEFT, MemberStatus.DECEASED)


#: What the counting reads of each person (``age_band`` is ``with_age_band``'s annotation).
_PERSON_COLUMNS = (
    "household_id",
    "sex",
    "age_band",
    "member_status",
    "education",
    "relation",
    "surname",
    "given_name",
    "surname_latin",
    "given_name_latin",
)


def _insert_counts(people: QuerySet[Person]) -> None:
    """Insert the summaries of ``people``'s households, counted over a subquery that works out
    each person's age band once.

    Counted with the ORM, the age band (a date computation over the arrival date and each
    program's limits) is written out again inside each of the eight age-band counters, and
    PostgreSQL evaluates it every time: for a whole register that was most of the minute a
    recomputation took. ``OFFSET 0`` keeps PostgreSQL from folding the subquery back in.
    ``tests/test_summaries.py`` compares the result with the same counts written as ORM
    aggregates.
    """
    quote = connection.ops.quote_name
    inner, params = people.values_list(*_PERSON_COLUMNS).query.sql_with_params()
    if connection.vendor == "postgresql":
        inner += " OFFSET 0"
    gone = ", ".join(["%s"] * len(GONE))
    counters: list[str] = ["COUNT(*)", f"COUNT(*) FILTER (WHERE NOT p.member_status IN ({gone}))"]
    values: list[object] = [*GONE]
    for band in AGE_BAND_CODES:
        for sex in SEXES:
            counters.append("COUNT(*) FILTER (WHERE p.sex = %s AND p.age_band = %s)")
            values += [sex, band]
    for education in Education:
        for sex in SEXES:
            blank = " OR p.education = ''" if education == Education.UNKNOWN else ""
            counters.append(f"COUNT(*) FILTER (WHERE p.sex = %s AND (p.education = %s{blank}))")
            values += [sex, education.value]
    for name in HEAD_NAMES:
        column = name.removeprefix("head_")
        counters.append(f"COALESCE(MAX(p.{column}) FILTER (WHERE p.relation = %s), '')")
        values.append(Relation.HEAD.value)
    columns = ", ".join(quote(c) for c in ("household_id", *COUNTERS, *HEAD_NAMES))
    # Every name comes from the models; every value is a parameter.
    sql = (
        f"INSERT INTO {quote(HouseholdSummary._meta.db_table)} ({columns}) "  # noqa: S608
        f"SELECT p.household_id, {', '.join(counters)} FROM ({inner}) AS p "
        "GROUP BY p.household_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*values, *params])


def _refresh(household_ids: list[int] | None) -> None:
    # Deferred import: selectors.reports imports the models package, which imports this app.
    from ..selectors.reports import with_age_band

    summaries = HouseholdSummary.objects.all()
    people = Person.objects.all()
    household = "household"
    if household_ids is not None:
        summaries = summaries.filter(household_id__in=household_ids)
        # The list limits the households' side of the join too: given on the people alone,
        # PostgreSQL scanned every household to hash-join a few thousand (0.1 s a chunk at
        # 1.2 M people; an import's new families waited seconds for their counts).
        people = people.filter(household_id__in=household_ids).annotate(
            listed=FilteredRelation("household", condition=Q(household__pk__in=household_ids))
        )
        household = "listed"
    summaries._raw_delete(summaries.db)
    _insert_counts(with_age_band(people, household).order_by())
    households = Household.objects.all()
    if household_ids is not None:
        households = households.filter(pk__in=household_ids)
    # The two counts every list and report needs also live on the household itself (no join).
    # ``update()`` leaves the household's version, timestamps and history alone.
    summary = HouseholdSummary.objects.filter(household=OuterRef("pk"))
    households.update(
        member_count=Coalesce(Subquery(summary.values("people")), Value(0)),
        members_present=Coalesce(Subquery(summary.values("people_present")), Value(0)),
    )


@transaction.atomic
def refresh_household_summaries(household_ids: Iterable[int] | None = None) -> None:
    """Recompute the summaries of ``household_ids`` (``None``: every household)."""
    recompute_in_turn(HOUSEHOLD_SUMMARY, _refresh, household_ids)


def summary_counts() -> dict[str, IntegerField]:
    """``Coalesce(Sum(summary__<counter>), 0)`` for reports, by counter name."""
    from django.db.models import Sum

    return {name: Coalesce(Sum(f"summary__{name}"), 0) for name in COUNTERS}


# --- signals --------------------------------------------------------------------------------


@receiver(pre_save, sender=Person, dispatch_uid="summary_person_moves")
def _remember_household(sender, instance: Person, raw: bool = False, **kwargs) -> None:
    instance._summary_previous_household = None
    if raw or instance._state.adding or instance.pk is None:
        return
    update_fields = kwargs.get("update_fields")
    if update_fields is not None and "household" not in update_fields:
        return
    instance._summary_previous_household = (
        Person.objects.filter(pk=instance.pk).values_list("household_id", flat=True).first()
    )


@receiver(post_save, sender=Person, dispatch_uid="summary_person_saved")
def _person_saved(sender, instance: Person, raw: bool = False, **kwargs) -> None:
    if raw:
        return
    refresh_household_summaries(
        [instance.household_id, getattr(instance, "_summary_previous_household", None)]
    )


@receiver(post_delete, sender=Person, dispatch_uid="summary_person_deleted")
def _person_deleted(sender, instance: Person, origin=None, **kwargs) -> None:
    model = getattr(origin, "model", type(origin))
    if model is Household:
        return  # the household goes too, and its summary with it
    refresh_household_summaries([instance.household_id])


@receiver(post_save, sender=Household, dispatch_uid="summary_household_saved")
def _household_saved(sender, instance: Household, raw: bool = False, **kwargs) -> None:
    update_fields = kwargs.get("update_fields")
    if raw or kwargs.get("created"):
        return  # a new household has no members yet
    if update_fields is not None and not {"arrived_on", "program"} & set(update_fields):
        return
    refresh_household_summaries([instance.pk])


@receiver(post_save, sender=AgeBandLimits, dispatch_uid="summary_limits_saved")
@receiver(post_delete, sender=AgeBandLimits, dispatch_uid="summary_limits_deleted")
def _limits_changed(sender, instance: AgeBandLimits, **kwargs) -> None:
    refresh_household_summaries(
        Household.objects.filter(program_id=instance.program_id).values_list("pk", flat=True)
    )
