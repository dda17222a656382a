"""The ministries' standard reports: one function per report, shared by its page and its CSV.

Every figure is counted by the database (``values().annotate()``); Python only reshapes the
handful of aggregate rows (a pivot, a running total, percentages), so the number of queries of a
report does not depend on the number of households. Each function takes a :class:`Scope` (the
households the user may see, already filtered) and returns :class:`Table` objects whose column
codes are the CSV header.

Counting rules (also in the README):

- *people* are members of a household (``Person`` rows); a household's case status is theirs;
- a person *arrived* on their household's arrival date (``Household.arrived_on``);
- districts count towards their oblast (quotas are set per oblast);
- under a quota, people of refused, withdrawn and returned cases, and members who left or died,
  take no place; people of households not yet arrived hold a place (*reserved*).
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import (
    Case,
    Count,
    DateField,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import (
    Cast,
    Coalesce,
    ExtractDay,
    ExtractMonth,
    ExtractYear,
    TruncMonth,
    TruncYear,
)
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from ..enums import (
    OPEN_STATUSES,
    RELEASED_STATUSES,
    CaseStatus,
    Education,
    MemberStatus,
    RegionLevel,
    Sex,
)
from ..enums import CaseStatus as S
from ..models import (
    AgeBandLimits,
    Country,
    Group,
    Household,
    HouseholdSummary,
    Payment,
    PaymentMonth,
    Person,
    Program,
    Region,
    RegionQuota,
)
from ..models.reports import DEFAULT_ADULT_FROM, DEFAULT_PENSION_FROM
from ..models.summaries import (
    AGE_BAND_CODES,
    COUNTERS,
    PAID_STATES,
    PLANNED_STATES,
    RECEIVING,
    SEXES,
    age_field,
    education_field,
)

#: Members who no longer take up a quota place.
GONE = (MemberStatus.LEFT, MemberStatus.DECEASED)


@dataclass(frozen=True)
class Period:
    """An inclusive date range; either end may be open."""

    start: dt.date | None = None
    end: dt.date | None = None

    def apply(self, queryset: QuerySet, date_field: str) -> QuerySet:
        if self.start:
            queryset = queryset.filter(**{f"{date_field}__gte": self.start})
        if self.end:
            queryset = queryset.filter(**{f"{date_field}__lte": self.end})
        return queryset


@dataclass(frozen=True)
class Scope:
    """What a report covers: visible, filtered households and groups, a period, today's date."""

    households: QuerySet[Household]
    groups: QuerySet[Group]
    period: Period = field(default_factory=Period)
    program: Program | None = None
    region: Region | None = None
    today: dt.date = field(default_factory=dt.date.today)

    @property
    def persons(self) -> QuerySet[Person]:
        return Person.objects.filter(household__in=self.households)


@dataclass(frozen=True)
class Column:
    """``code`` is the stable CSV header; ``label`` the page's heading."""

    code: str
    label: str | Promise
    numeric: bool = False
    on_page: bool = True
    #: For amounts of money: the code of the column that holds each row's currency. The page
    #: shows them in the language's format with the currency sign; the CSV as plain numbers.
    currency_from: str = ""
    #: Short codes and months ("2021-09", "KG-GB") that must not break at their hyphen.
    nowrap: bool = False


@dataclass(frozen=True)
class Cell:
    """One cell of the page: ``currency`` is set (an ISO code, maybe "") for amounts of money."""

    value: object
    numeric: bool
    currency: str | None = None
    nowrap: bool = False


@dataclass
class Table:
    """One rectangle of figures. ``totals`` (page only) lines up with ``columns``."""

    code: str
    title: str | Promise
    columns: list[Column]
    rows: list[tuple]
    totals: tuple | None = None
    note: str | Promise = ""

    @property
    def page_columns(self) -> list[Column]:
        return [c for c in self.columns if c.on_page]

    @property
    def page_rows(self) -> list[tuple]:
        keep = [i for i, c in enumerate(self.columns) if c.on_page]
        return [tuple(row[i] for i in keep) for row in self.rows]

    @property
    def page_totals(self) -> tuple | None:
        if self.totals is None:
            return None
        return tuple(v for v, c in zip(self.totals, self.columns, strict=True) if c.on_page)

    def _page_cells(self, row: tuple) -> list[Cell]:
        codes = [c.code for c in self.columns]
        cells = []
        for column, value in zip(self.columns, row, strict=True):
            if not column.on_page:
                continue
            currency = None
            if column.currency_from:
                currency = str(row[codes.index(column.currency_from)] or "")
            cells.append(Cell(value, column.numeric, currency, column.nowrap))
        return cells

    @property
    def page_body(self) -> list[list[Cell]]:
        """Rows for the page as cells (value, whether numeric, currency of amounts)."""
        return [self._page_cells(row) for row in self.rows]

    @property
    def page_footer(self) -> list[Cell] | None:
        if self.totals is None:
            return None
        return self._page_cells(self.totals)

    def column(self, code: str) -> list:
        index = [c.code for c in self.columns].index(code)
        return [row[index] for row in self.rows]


def percent(part: int, whole: int) -> Decimal | None:
    """``part`` as a percentage of ``whole``, to one decimal; None when ``whole`` is zero."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), ROUND_HALF_UP)


def column_sums(rows: Iterable[tuple], columns: list[Column], label: str | Promise) -> tuple:
    """A totals row: sums of numeric columns, ``label`` in the first column shown on the page."""
    rows = list(rows)
    totals: list = []
    for i, column in enumerate(columns):
        if column.numeric:
            totals.append(sum(row[i] or 0 for row in rows))
        else:
            totals.append("")
    first_shown = next(i for i, c in enumerate(columns) if c.on_page)
    totals[first_shown] = label
    return tuple(totals)


def oblast_of(region_field: str) -> Case:
    """The oblast (or city) a household's region belongs to: districts roll up to their parent."""
    return Case(
        When(**{f"{region_field}__level": RegionLevel.DISTRICT}, then=F(f"{region_field}__parent")),
        default=F(region_field),
    )


def in_quota_region(outer_region: str, prefix: str = "household__destination_region") -> Q:
    return Q(**{prefix: OuterRef(outer_region)}) | Q(
        **{f"{prefix}__parent": OuterRef(outer_region)}
    )


def people_sum(counter: str = "people", filter: Q | None = None) -> Coalesce:
    """The sum of a ``HouseholdSummary`` counter over households (0 when there are none).

    ``counter`` is a counter name (``people``, ``minor_f`` …) or a path ending in one.
    """
    path = counter if "__" in counter else HOUSEHOLD_COUNTS.get(counter, f"summary__{counter}")
    return Coalesce(Sum(path, filter=filter), 0)


#: Counters kept on the household row itself, read without joining the summaries.
HOUSEHOLD_COUNTS = {"people": "member_count", "people_present": "members_present"}


def _status_order(value: str) -> int:
    return list(CaseStatus.values).index(value) if value in CaseStatus.values else 99


def _regions(ids: Iterable[int | None]) -> dict[int, Region]:
    return Region.objects.in_bulk([i for i in ids if i is not None])


# --- overview -------------------------------------------------------------------------------


PEOPLE_ARRIVED = ("arrived_this_year", "arrived_total", "quota_arrived")


def overview(scope: Scope) -> list[Table]:
    """Per program: open cases by status; people arrived this year and in all; quota this year;
    stipends paid for this month and the year to date (see :func:`stipends_paid`).

    "This year" is the year of the period's end (default: today), so a past year can be shown.
    """
    as_of = scope.period.end or scope.today
    year = as_of.year
    programs = Program.objects.all()
    if scope.program:
        programs = programs.filter(pk=scope.program.pk)
    programs = list(programs)

    # One pass over the households, per program and status: open cases, and the arrivals.
    arrived = Q(arrived_on__isnull=False, arrived_on__lte=as_of)
    in_quota = Q(quota_year=year) & ~Q(status__in=RELEASED_STATUSES)
    cells = list(
        scope.households.order_by()
        .values("program", "status")
        .annotate(
            households=Count("pk"),
            people=people_sum(),
            arrived_this_year=people_sum(filter=arrived & Q(arrived_on__year=year)),
            arrived_total=people_sum(filter=arrived),
            # Members who left or died take no quota place.
            quota_arrived=people_sum("people_present", filter=arrived & in_quota),
        )
    )
    by_status = [r for r in cells if r["status"] in OPEN_STATUSES]
    people: dict[int, dict[str, int]] = {}
    for r in cells:
        counts = people.setdefault(r["program"], dict.fromkeys(PEOPLE_ARRIVED, 0))
        for name in PEOPLE_ARRIVED:
            counts[name] += r[name]
    names = {p.pk: p for p in programs}
    status_rows = sorted(
        (
            (
                names[r["program"]].code,
                names[r["program"]].name,
                r["status"],
                CaseStatus(r["status"]).label,
                r["households"],
                r["people"],
            )
            for r in by_status
            if r["program"] in names
        ),
        key=lambda row: (row[0], _status_order(row[2])),
    )
    status_columns = [
        Column("program", _("Program code"), on_page=False),
        Column("program_name", _("Program")),
        Column("status", _("Status code"), on_page=False),
        Column("status_label", _("Status")),
        Column("households", _("Households"), numeric=True),
        Column("people", _("People"), numeric=True),
    ]

    quotas = RegionQuota.objects.filter(year=year)
    if scope.region:
        quotas = quotas.filter(Q(region=scope.region) | Q(region__parent=scope.region))
    places = {
        r["program"]: r["places"]
        for r in quotas.order_by().values("program").annotate(places=Sum("places"))
    }
    summary_rows = []
    for program in programs:
        counts = people.get(program.pk, {})
        quota_arrived = counts.get("quota_arrived", 0)
        quota = places.get(program.pk, 0)
        summary_rows.append(
            (
                program.code,
                program.name,
                counts.get("arrived_this_year", 0),
                counts.get("arrived_total", 0),
                quota,
                quota_arrived,
                percent(quota_arrived, quota),
            )
        )
    summary_columns = [
        Column("program", _("Program code"), on_page=False),
        Column("program_name", _("Program")),
        Column("arrived_this_year", _("People arrived in %(year)s") % {"year": year}, True),
        Column("arrived_total", _("People arrived since the program began"), True),
        Column("quota_places", _("Quota places %(year)s") % {"year": year}, True),
        Column("quota_arrived", _("Arrived under the quota"), True),
        Column("quota_percent", _("Quota fulfilled, %"), True),
    ]
    return [
        Table(
            "summary",
            _("Arrivals and quota, as of %(date)s") % {"date": as_of.isoformat()},
            summary_columns,
            summary_rows,
        ),
        Table(
            "open_cases",
            _("Open cases by status"),
            status_columns,
            status_rows,
            column_sums(status_rows, status_columns, _("Total")),
        ),
        stipends_paid(scope.households, programs, as_of),
    ]


def of_households(rows: QuerySet, households: QuerySet[Household], path: str) -> QuerySet:
    """``rows`` (payments, monthly payment sums) of ``households``, reached through ``path``.
    When those are every household (a user who sees the whole register, no filter) the semi-join
    would only cost time: a hash of every household, and of every grant for payments — some
    200 ms at 1.2 M people for a year's payments."""
    if not households.query.has_filters():
        return rows
    return rows.filter(**{f"{path}__in": households})


def stipends_paid(
    households: QuerySet[Household], programs: list[Program], as_of: dt.date
) -> Table:
    """Per program and currency: stipends paid for the month of ``as_of`` and its year to date.

    Months are the months payments are for, as in the stipends report; paid is net of reversals
    (summed from the monthly payment summaries, ``PaymentMonth``).
    """
    month = as_of.replace(day=1)
    months = of_households(PaymentMonth.objects.all(), households, "household").filter(
        period__gte=month.replace(month=1), period__lte=month
    )
    figures = (
        months.order_by()
        .values("household__program", "currency")
        .annotate(this_month=Sum("paid", filter=Q(period=month)), year_to_date=Sum("paid"))
    )
    found: dict[int, list[dict]] = {}
    for row in figures:
        found.setdefault(row["household__program"], []).append(row)
    rows = []
    for program in programs:
        amounts = found.get(program.pk) or [{"currency": program.currency}]
        for row in sorted(amounts, key=lambda r: r["currency"]):
            rows.append(
                (
                    program.code,
                    program.name,
                    row["currency"],
                    cents(row.get("this_month")),
                    cents(row.get("year_to_date")),
                )
            )
    columns = [
        Column("program", _("Program code"), on_page=False),
        Column("program_name", _("Program")),
        Column("currency", _("Currency"), on_page=False),
        Column(
            "paid_this_month",
            _("Paid for %(month)s") % {"month": month.strftime("%Y-%m")},
            numeric=True,
            currency_from="currency",
        ),
        Column(
            "paid_year_to_date",
            _("Paid for %(year)s to date") % {"year": month.year},
            numeric=True,
            currency_from="currency",
        ),
    ]
    return Table(
        "stipends",
        _("Stipends paid"),
        columns,
        rows,
        note=_(
            "Benefit payments for the month and the year so far (the months payments are for), "
            "net of reversals, in each program's currency."
        ),
    )


# --- status grants --------------------------------------------------------------------------


def _months(first: dt.date, last: dt.date) -> list[dt.date]:
    months, month = [], first.replace(day=1)
    while month <= last:
        months.append(month)
        month = (month + dt.timedelta(days=32)).replace(day=1)
    return months


def status_grants(scope: Scope) -> list[Table]:
    """Statuses granted per month (households and people) with the running total since the start.

    The running total includes grants before the period, so it answers "how many as of the
    1st of the next month" whatever the period shown.
    """
    granted = scope.households.filter(status_granted_on__isnull=False)
    before = {"households": 0, "people": 0}
    if scope.period.start:
        before = granted.filter(status_granted_on__lt=scope.period.start).aggregate(
            households=Count("pk"), people=people_sum()
        )
    monthly = {
        r["month"]: r
        for r in scope.period.apply(granted, "status_granted_on")
        .annotate(month=TruncMonth("status_granted_on"))
        .order_by()
        .values("month")
        .annotate(households=Count("pk"), people=people_sum())
    }
    rows = []
    if monthly:
        first = scope.period.start or min(monthly)
        last = scope.period.end or max(monthly)
        running_households, running_people = before["households"], before["people"]
        for month in _months(first, last):
            counts = monthly.get(month, {"households": 0, "people": 0})
            running_households += counts["households"]
            running_people += counts["people"]
            rows.append(
                (
                    month.strftime("%Y-%m"),
                    counts["households"],
                    counts["people"],
                    running_households,
                    running_people,
                )
            )
    columns = [
        Column("month", _("Month"), nowrap=True),
        Column("households", _("Households granted"), numeric=True),
        Column("people", _("People granted"), numeric=True),
        Column("households_running_total", _("Households, running total"), numeric=True),
        Column("people_running_total", _("People, running total"), numeric=True),
    ]
    totals = None
    if rows:
        totals = (
            _("Total"),
            sum(r[1] for r in rows),
            sum(r[2] for r in rows),
            rows[-1][3],
            rows[-1][4],
        )
    return [
        Table(
            "by_month",
            _("Statuses granted by month"),
            columns,
            rows,
            totals,
            note=_("Running totals include every grant before the period shown."),
        )
    ]


# --- arrivals -------------------------------------------------------------------------------


def arrivals(scope: Scope) -> list[Table]:
    """People arrived, by destination region × year of arrival, and by country of origin."""
    # Households with members (one without has no person to count).
    arrived = scope.period.apply(
        scope.households.filter(arrived_on__isnull=False, member_count__gt=0), "arrived_on"
    )
    # One pass: region × year × country of origin; both tables are sums of these cells. Grouped
    # on the household's own columns (the covering index ``household_arrivals`` has them all):
    # districts are rolled up to their oblast here, not by a join per household, and the year
    # is a truncated date (PostgreSQL's EXTRACT yields numeric, slow to group a million rows),
    # cast back to a date so that it is read as one.
    raw = (
        arrived.annotate(year_start=Cast(TruncYear("arrived_on"), DateField()))
        .order_by()
        .values("destination_region", "year_start", "origin_country")
        .annotate(households=Count("pk"), people=people_sum())
    )
    every_region = Region.objects.in_bulk()  # a small reference table: one query
    oblast = {
        region.pk: region.parent_id if region.level == RegionLevel.DISTRICT else region.pk
        for region in every_region.values()
    }
    cells = [
        {
            "region_id": oblast.get(cell["destination_region"], cell["destination_region"]),
            "year": cell["year_start"].year,
            "origin_country": cell["origin_country"],
            "households": cell["households"],
            "people": cell["people"],
        }
        for cell in raw
    ]
    regions = {c["region_id"]: every_region[c["region_id"]] for c in cells if c["region_id"]}
    years = sorted({c["year"] for c in cells})
    grid: dict[int | None, dict[int, int]] = {}
    for cell in cells:
        years_of_region = grid.setdefault(cell["region_id"], {})
        years_of_region[cell["year"]] = years_of_region.get(cell["year"], 0) + cell["people"]

    def region_key(region_id: int | None) -> str:
        return regions[region_id].code if region_id in regions else "~"

    region_rows = []
    for region_id in sorted(grid, key=region_key):
        region = regions.get(region_id)
        counts = [grid[region_id].get(year, 0) for year in years]
        region_rows.append(
            (
                region.code if region else "",
                region.name if region else str(_("not recorded")),
                *counts,
                sum(counts),
            )
        )
    region_columns = [
        Column("region_code", _("Code")),
        Column("region", _("Destination region")),
        *(Column(str(year), str(year), numeric=True) for year in years),
        Column("total", _("Total"), numeric=True),
    ]

    totals: dict[str, dict[str, int]] = {}
    for cell in cells:
        country = totals.setdefault(cell["origin_country"], {"households": 0, "people": 0})
        country["households"] += cell["households"]
        country["people"] += cell["people"]
    by_country = [{"origin_country": code, **counts} for code, counts in totals.items()]
    countries = Country.objects.in_bulk([r["origin_country"] for r in by_country])
    country_rows = sorted(
        (
            (
                code,
                countries[code].name,
                r["households"],
                r["people"],
            )
            for r in by_country
            for code in [r["origin_country"]]
        ),
        key=lambda row: (-row[3], row[0]),
    )
    country_columns = [
        Column("country_code", _("Code")),
        Column("country", _("Country of origin")),
        Column("households", _("Households"), numeric=True),
        Column("people", _("People"), numeric=True),
    ]
    return [
        Table(
            "by_region",
            _("People arrived by destination region and year"),
            region_columns,
            region_rows,
            column_sums(region_rows, region_columns, _("Total")),
        ),
        Table(
            "by_country",
            _("People arrived by country of origin"),
            country_columns,
            country_rows,
            column_sums(country_rows, country_columns, _("Total")),
        ),
    ]


# --- quota fulfilment -----------------------------------------------------------------------


def quota_fulfilment(scope: Scope) -> list[Table]:
    """Per region and year: quota (current revision), reserved, arrived, remaining, percent.

    The period selects quota years (the years of its start and end).
    """
    quotas = RegionQuota.objects.select_related("program", "region")
    if scope.program:
        quotas = quotas.filter(program=scope.program)
    if scope.region:
        quotas = quotas.filter(Q(region=scope.region) | Q(region__parent=scope.region))
    if scope.period.start:
        quotas = quotas.filter(year__gte=scope.period.start.year)
    if scope.period.end:
        quotas = quotas.filter(year__lte=scope.period.end.year)
    # Members who left or died take no place (``people_present``).
    placed = scope.households.filter(
        in_quota_region("region", prefix="destination_region"),
        program=OuterRef("program"),
        quota_year=OuterRef("year"),
    ).exclude(status__in=RELEASED_STATUSES)

    def count_of(households: QuerySet[Household]) -> Coalesce:
        counted = (
            households.order_by()
            .values("program")
            .annotate(n=people_sum("people_present"))
            .values("n")
        )
        return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))

    quotas = quotas.annotate(
        reserved=count_of(placed.filter(arrived_on__isnull=True)),
        arrived=count_of(placed.filter(arrived_on__isnull=False)),
    ).order_by("-year", "program__code", "region__code")
    rows = [
        (
            q.year,
            q.program.code,
            q.region.code,
            q.region.name,
            q.places,
            q.reserved,
            q.arrived,
            q.places - q.reserved - q.arrived,
            percent(q.arrived, q.places),
        )
        for q in quotas
    ]
    columns = [
        Column("year", _("Year")),
        Column("program", _("Program")),
        Column("region_code", _("Code")),
        Column("region", _("Region")),
        Column("quota", _("Quota"), numeric=True),
        Column("reserved", _("Reserved"), numeric=True),
        Column("arrived", _("Arrived"), numeric=True),
        Column("remaining", _("Remaining"), numeric=True),
        Column("percent", _("Fulfilled, %"), numeric=True),
    ]
    totals = None
    if rows:
        sums = column_sums(rows, columns, _("Total"))
        totals = (*sums[:-1], percent(sums[6], sums[4]))
    return [
        Table(
            "by_region",
            _("Quota fulfilment by region and year"),
            columns,
            rows,
            totals,
            note=_(
                "Reserved: people placed under the quota who have not arrived yet. "
                "Refused, withdrawn and returned cases and members who left take no place."
            ),
        )
    ]


# --- demographics ---------------------------------------------------------------------------

AGE_BANDS = (
    ("minor", _("Minors")),
    ("working", _("Working age")),
    ("pension", _("Pension age")),
    ("unknown", _("Age not known")),
)


def _limit(
    limits: dict[tuple[int, str], int | None], default: int, household: str = "household"
) -> Case:
    """A person's limit as ``CASE`` over the few (program, sex) rows of ``AgeBandLimits``, read
    beforehand: a correlated subquery here would run once per person for each of the
    summaries' sixteen counters."""
    return Case(
        *(
            When(**{f"{household}__program_id": program_id}, sex=sex, then=Value(value))
            for (program_id, sex), value in sorted(limits.items())
            if value is not None
        ),
        default=Value(default),
        output_field=IntegerField(),
    )


def with_age_band(persons: QuerySet[Person], household: str = "household") -> QuerySet[Person]:
    """Annotate ``age_band``: minor, working, pension (age on arrival) or unknown. ``household``:
    the path to the person's household (a ``FilteredRelation`` alias of it, say)."""
    arrived, born = f"{household}__arrived_on", "birth_date"
    limits = {
        (program_id, sex): (adult_from, pension_from)
        for program_id, sex, adult_from, pension_from in AgeBandLimits.objects.using(
            persons.db
        ).values_list("program_id", "sex", "adult_from", "pension_from")
    }
    persons = persons.annotate(
        _arr_month=ExtractMonth(arrived),
        _arr_day=ExtractDay(arrived),
        _born_month=ExtractMonth(born),
        _born_day=ExtractDay(born),
    )
    birthday_to_come = Q(_arr_month__lt=F("_born_month")) | Q(
        _arr_month=F("_born_month"), _arr_day__lt=F("_born_day")
    )
    persons = persons.annotate(
        age=ExtractYear(arrived)
        - ExtractYear(born)
        - Case(When(birthday_to_come, then=Value(1)), default=Value(0)),
        adult_from=_limit(
            {key: a for key, (a, _p) in limits.items()}, DEFAULT_ADULT_FROM, household
        ),
        pension_from=_limit(
            {key: p for key, (_a, p) in limits.items()}, DEFAULT_PENSION_FROM, household
        ),
    )
    return persons.annotate(
        age_band=Case(
            When(birth_date__isnull=True, then=Value("unknown")),
            When(age__lt=F("adult_from"), then=Value("minor")),
            When(age__lt=F("pension_from"), then=Value("working")),
            default=Value("pension"),
        )
    )


def _by_sex_table(
    code: str,
    title: str | Promise,
    first: Column,
    label: str | Promise,
    keys: Iterable[tuple[str, str | Promise]],
    counts: dict[tuple[str, str], int],
) -> Table:
    rows = []
    for key, label in keys:
        female = counts.get((key, Sex.FEMALE), 0)
        male = counts.get((key, Sex.MALE), 0)
        if female or male:
            rows.append((key, label, female, male, female + male))
    columns = [
        first,
        Column(f"{first.code}_label", label),
        Column("female", _("Women"), numeric=True),
        Column("male", _("Men"), numeric=True),
        Column("total", _("Total"), numeric=True),
    ]
    return Table(code, title, columns, rows, column_sums(rows, columns, _("Total")))


def demographics(scope: Scope) -> list[Table]:
    """People arrived in the period by age band on arrival and sex, and by education and sex."""
    arrived = scope.period.apply(scope.households.filter(arrived_on__isnull=False), "arrived_on")
    # The age bands and education of each household's members are counted in its summary
    # (a blank education counts as unknown there). Read from the summaries' side, so that the
    # database hashes the households' ids (from an index) rather than the wide summaries.
    sums = HouseholdSummary.objects.filter(household__in=arrived).aggregate(
        **{
            name: Coalesce(Sum(name), 0)
            for name in COUNTERS
            if name not in ("people", "people_present")
        }
    )
    ages = {(band, sex): sums[age_field(band, sex)] for band in AGE_BAND_CODES for sex in SEXES}
    merged = {
        (education.value, sex): sums[education_field(education.value, sex)]
        for education in Education
        for sex in SEXES
    }
    tables = [
        _by_sex_table(
            "age",
            _("Age on arrival and sex"),
            Column("age_band", _("Age band code"), on_page=False),
            _("Age band"),
            AGE_BANDS,
            ages,
        ),
        _by_sex_table(
            "education",
            _("Education and sex"),
            Column("education", _("Education code"), on_page=False),
            _("Education"),
            Education.choices,
            merged,
        ),
    ]
    tables[0].note = _(
        "Age on the household's arrival date. Working and pension ages are set per program "
        "and sex in the admin (Age band limits)."
    )
    return tables


# --- groups ---------------------------------------------------------------------------------

GROUP_BUCKETS = (
    (
        "in_process",
        _("In process"),
        (S.DRAFT, S.APPLIED, S.UNDER_REVIEW, S.HEARING, S.GRANTED),
    ),
    ("in_transit", _("In transit"), (CaseStatus.IN_TRANSIT,)),
    ("arrived", _("Arrived"), (CaseStatus.ARRIVED, CaseStatus.SETTLED, CaseStatus.CITIZENSHIP)),
    ("refused_withdrawn", _("Refused or withdrawn"), (CaseStatus.REFUSED, CaseStatus.WITHDRAWN)),
    ("returned", _("Returned abroad"), (CaseStatus.RETURNED,)),
    ("closed", _("Closed"), (CaseStatus.CLOSED,)),
)


def groups(scope: Scope) -> list[Table]:
    """Each group: planned size, members by their case's status, and where they were placed.

    The program, group and origin filters choose groups; the other filters choose the members
    counted. The period selects groups by planned date.
    """
    chosen = scope.groups.select_related("program", "origin_country")
    chosen = scope.period.apply(chosen, "planned_on")
    chosen = list(chosen.order_by("program__code", "planned_on", "name"))
    # Counted from the households' side (one grouped query over the chosen groups' households):
    # a filter "household in the scope" inside a per-group aggregate makes PostgreSQL rescan
    # the scope for every row.
    annotations = {"households_n": Count("pk"), "people_n": people_sum()}
    for code, _label, statuses in GROUP_BUCKETS:
        annotations[f"n_{code}"] = people_sum(filter=Q(status__in=statuses))
    counted = {
        r["group"]: r
        for r in scope.households.filter(group__in=[g.pk for g in chosen])
        .order_by()
        .values("group")
        .annotate(**annotations)
    }
    none = dict.fromkeys(annotations, 0)
    group_rows = [
        (
            g.pk,
            g.name,
            g.program.code,
            g.origin_country.name,
            g.get_status_display(),
            g.planned_size,
            counted.get(g.pk, none)["households_n"],
            counted.get(g.pk, none)["people_n"],
            *(counted.get(g.pk, none)[f"n_{code}"] for code, _label, _s in GROUP_BUCKETS),
        )
        for g in chosen
    ]
    group_columns = [
        Column("group_id", _("Id"), on_page=False),
        Column("group", _("Group")),
        Column("program", _("Program")),
        Column("origin_country", _("Country of origin")),
        Column("status", _("Group status")),
        Column("planned_size", _("Planned size"), numeric=True),
        Column("households", _("Households"), numeric=True),
        Column("people", _("People"), numeric=True),
        *(Column(code, label, numeric=True) for code, label, _s in GROUP_BUCKETS),
    ]
    group_ids = [row[0] for row in group_rows]
    placements = list(
        scope.households.filter(group__in=group_ids, member_count__gt=0)
        .annotate(region_id=oblast_of("destination_region"))
        .order_by()
        .values("group", "region_id")
        .annotate(households=Count("pk"), people=people_sum())
    )
    regions = _regions(p["region_id"] for p in placements)
    names = {row[0]: row[1] for row in group_rows}
    order = {gid: i for i, gid in enumerate(group_ids)}
    placement_rows = [
        (
            names[p["group"]],
            regions[p["region_id"]].code if p["region_id"] else "",
            regions[p["region_id"]].name if p["region_id"] else str(_("not placed yet")),
            p["households"],
            p["people"],
        )
        for p in sorted(
            placements,
            key=lambda p: (
                order[p["group"]],
                regions[p["region_id"]].code if p["region_id"] else "~",
            ),
        )
    ]
    placement_columns = [
        Column("group", _("Group")),
        Column("region_code", _("Code")),
        Column("region", _("Placed in")),
        Column("households", _("Households"), numeric=True),
        Column("people", _("People"), numeric=True),
    ]
    return [
        Table(
            "groups",
            _("Groups: planned size and members by case status"),
            group_columns,
            group_rows,
            column_sums(group_rows, group_columns, _("Total")),
        ),
        Table(
            "placements",
            _("Where each group's members were placed"),
            placement_columns,
            placement_rows,
            column_sums(placement_rows, placement_columns, _("Total")),
        ),
    ]


# --- stipends -------------------------------------------------------------------------------

CENT = Decimal("0.01")


def cents(value: Decimal | int | float | None) -> Decimal:
    """An amount to two places, the same on every database (SQLite sums come back as floats)."""
    return Decimal(str(value or 0)).quantize(CENT, ROUND_HALF_UP)


def _in_period(rows: QuerySet, scope: Scope) -> QuerySet:
    """``rows`` whose month (``period``, the first of a month) lies in the scope's period."""
    if scope.period.start:
        rows = rows.filter(period__gte=scope.period.start.replace(day=1))
    if scope.period.end:
        rows = rows.filter(period__lte=scope.period.end)
    return rows


def _payments_in(scope: Scope) -> QuerySet[Payment]:
    """The payments of the scope's households whose month lies in the period; refused and
    missed payments are left out (they are neither planned nor paid)."""
    payments = of_households(
        Payment.objects.filter(state__in=(*PLANNED_STATES, *PAID_STATES)),
        scope.households,
        "grant__household",
    )
    return _in_period(payments, scope)


def _payment_months_in(scope: Scope) -> QuerySet[PaymentMonth]:
    """The monthly payment sums (``PaymentMonth``) of the scope's households in the period."""
    return _in_period(
        of_households(PaymentMonth.objects.all(), scope.households, "household"), scope
    )


def stipends(scope: Scope) -> list[Table]:
    """Planned and paid amounts by month × destination region × benefit rule, and per currency.

    - the month is the month a payment is *for* (``Payment.period``), not the day it was paid;
      the period filter selects these months;
    - *planned*: due and not yet paid — planned, and approved but not yet paid;
    - *paid*: net amount paid — a reversal is a negative paid entry for the same month, so a
      reversed payment and its reversal cancel out; refused and missed payments count nowhere;
    - *recipients*: people (per-person benefits) or households (per-household ones) with a
      payment planned, approved or paid and not reversed;
    - amounts in different currencies are never added up: the totals are per currency.

    The amounts and the monthly recipients are sums of the households' monthly payment
    summaries (``PaymentMonth``, kept by every write of payments); the people paid in the
    whole period, each counted once, are counted over the payments themselves.
    """
    months = _payment_months_in(scope)
    cells = list(
        months.annotate(region_id=oblast_of("household__destination_region"))
        .order_by()
        .values(
            "period",
            "region_id",
            "rule",
            "rule__code",
            "rule__name",
            "rule__program__code",
            "currency",
        )
        .annotate(
            planned=Sum("planned"),
            paid=Sum("paid"),
            recipients=Sum("people") + Sum("household_paid"),
        )
    )
    regions = _regions(c["region_id"] for c in cells)

    def region_code(region_id: int | None) -> str:
        return regions[region_id].code if region_id in regions else ""

    cells.sort(
        key=lambda c: (
            c["period"],
            c["rule__program__code"],
            region_code(c["region_id"]) or "~",
            c["rule__code"],
            c["rule"],
        )
    )
    rows = [
        (
            c["period"].strftime("%Y-%m"),
            c["rule__program__code"],
            region_code(c["region_id"]),
            regions[c["region_id"]].name if c["region_id"] in regions else str(_("not recorded")),
            c["rule__code"],
            c["rule__name"],
            c["currency"],
            cents(c["planned"]),
            cents(c["paid"]),
            c["recipients"],
        )
        for c in cells
    ]
    columns = [
        Column("month", _("Month"), nowrap=True),
        Column("program", _("Program"), on_page=False),
        Column("region_code", _("Code"), nowrap=True),
        Column("region", _("Destination region")),
        Column("rule_code", _("Rule code"), on_page=False),
        Column("rule", _("Benefit")),
        Column("currency", _("Currency"), on_page=False),
        Column("planned", _("Planned, not yet paid"), numeric=True, currency_from="currency"),
        Column("paid", _("Paid"), numeric=True, currency_from="currency"),
        Column("recipients", _("Recipients"), numeric=True),
    ]

    by_currency = {
        r["currency"]: r
        for r in months.order_by()
        .values("currency")
        .annotate(
            planned=Sum("planned"),
            paid=Sum("paid"),
            households=Count("household", distinct=True, filter=Q(household_paid__gt=0)),
        )
    }
    people = dict(
        _payments_in(scope)
        .filter(RECEIVING, person__isnull=False)
        .order_by()
        .values("currency")
        .annotate(people=Count("person", distinct=True))
        .values_list("currency", "people")
    )
    currency_rows = [
        (
            currency,
            cents(by_currency[currency]["planned"]),
            cents(by_currency[currency]["paid"]),
            by_currency[currency]["households"] + people.get(currency, 0),
        )
        for currency in sorted(by_currency)
    ]
    currency_columns = [
        Column("currency", _("Currency")),
        Column("planned", _("Planned, not yet paid"), numeric=True, currency_from="currency"),
        Column("paid", _("Paid"), numeric=True, currency_from="currency"),
        Column("recipients", _("Recipients"), numeric=True),
    ]
    # One totals row only when every amount is in one currency: tenge and som never add up.
    totals = None
    if len(currency_rows) == 1:
        currency, planned, paid, recipients = currency_rows[0]
        totals = (_("Total"), "", "", "", "", "", currency, planned, paid, recipients)
    return [
        Table(
            "by_month",
            _("Planned and paid by month, region and benefit"),
            columns,
            rows,
            totals,
            note=_(
                "Months are the months the payments are for. Planned: due and not yet paid "
                "(planned, or approved and awaiting payment). Paid: net of reversals; refused "
                "and missed payments are not counted. Recipients: people (or households, for "
                "benefits paid per household) with a payment planned, approved or paid; the "
                "totals count each of them once."
            ),
        ),
        Table(
            "by_currency",
            _("Totals per currency"),
            currency_columns,
            currency_rows,
            note=_(
                "Recipients here are counted once each over the whole period, so they can be "
                "fewer than the sum of the monthly rows."
            ),
        ),
    ]
