"""Report pages and CSV downloads: check the user, read the filters, call a selector, render.

``/reports/<name>/`` shows a report; the same URL with ``?format=csv`` (and ``&table=<code>``
for reports with several tables, ``&dialect=excel`` for Excel) downloads its figures.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, QueryDict
from django.shortcuts import render
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from tracker.db_router import reads_from_replica

from . import charts
from .csv_format import CsvDialect
from .enums import CaseStatus
from .exports import (
    csv_response,
    household_export_columns,
    payment_export_columns,
    person_export_columns,
    personal_data_response,
    request_filters,
    table_lines,
)
from .filters import ExportFilter, HouseholdFilter, PaymentExportFilter
from .models import Payment
from .selectors import reports
from .selectors.access import groups_for, households_for, persons_for, scope_queryset
from .selectors.reports import Period, Scope, Table

VIEW_REPORTS = "resettlement.view_reports"
EXPORT_PERSONAL_DATA = "resettlement.export_personal_data"


# --- charts of each report ------------------------------------------------------------------


def _bars(table: Table, label: str, series: list[tuple[str, str]], title: str) -> SafeString:
    labels = [str(v) for v in table.column(label)]
    return charts.bar_chart(
        labels, [(str(name), table.column(code)) for code, name in series], title=str(title)
    )


def overview_charts(tables: list[Table]) -> list[SafeString]:
    _summary, by_status, _stipends = tables
    programs = len(set(by_status.column("program")))
    labels = [
        f"{program} · {label}" if programs > 1 else str(label)
        for program, label in zip(
            by_status.column("program"), by_status.column("status_label"), strict=True
        )
    ]
    return [
        charts.bar_chart(
            labels,
            [(str(_("People")), by_status.column("people"))],
            title=str(_("Open cases by status")),
        )
    ]


def status_grant_charts(tables: list[Table]) -> list[SafeString]:
    (table,) = tables
    months = table.column("month")
    return [
        charts.line_chart(
            months,
            [(str(_("People granted")), table.column("people"))],
            title=str(_("People granted a status each month")),
        ),
        charts.line_chart(
            months,
            [(str(_("People, running total")), table.column("people_running_total"))],
            title=str(_("Running total of people granted a status")),
        ),
    ]


def arrival_charts(tables: list[Table]) -> list[SafeString]:
    by_region, by_country = tables
    return [
        _bars(by_region, "region", [("total", _("People"))], _("People arrived by region")),
        _bars(by_country, "country", [("people", _("People"))], _("People arrived by country")),
    ]


def quota_charts(tables: list[Table]) -> list[SafeString]:
    (table,) = tables
    labels = [
        f"{region} {year}"
        for region, year in zip(table.column("region"), table.column("year"), strict=True)
    ]
    series = [
        (str(_("Quota")), table.column("quota")),
        (str(_("Reserved")), table.column("reserved")),
        (str(_("Arrived")), table.column("arrived")),
    ]
    return [charts.bar_chart(labels, series, title=str(_("Quota, reserved and arrived")))]


def demographic_charts(tables: list[Table]) -> list[SafeString]:
    series = [("female", _("Women")), ("male", _("Men"))]
    age, education = tables
    return [
        _bars(age, "age_band_label", series, _("Age on arrival")),
        _bars(education, "education_label", series, _("Education")),
    ]


def group_charts(tables: list[Table]) -> list[SafeString]:
    groups = tables[0]
    series = [("planned_size", _("Planned")), ("people", _("People recorded"))]
    return [_bars(groups, "group", series, _("Planned size and people recorded"))]


def stipend_charts(tables: list[Table]) -> list[SafeString]:
    """Per currency (tenge and som never share an axis): planned and paid by month."""
    by_month = tables[0]
    sums: dict[str, dict[str, list]] = {}
    for month, currency, planned, paid in zip(
        by_month.column("month"),
        by_month.column("currency"),
        by_month.column("planned"),
        by_month.column("paid"),
        strict=True,
    ):
        months = sums.setdefault(currency, {})
        figures = months.setdefault(month, [Decimal(0), Decimal(0)])
        figures[0] += planned
        figures[1] += paid

    def whole(amount: Decimal) -> Decimal | int:
        return int(amount) if amount == amount.to_integral_value() else amount

    result = []
    for currency, months in sorted(sums.items()):
        labels = sorted(months)
        result.append(
            charts.bar_chart(
                labels,
                [
                    (str(_("Planned, not yet paid")), [whole(months[m][0]) for m in labels]),
                    (str(_("Paid")), [whole(months[m][1]) for m in labels]),
                ],
                title=str(_("Planned and paid by month, %(currency)s") % {"currency": currency}),
            )
        )
    return result


@dataclass(frozen=True)
class ReportSpec:
    name: str
    title: str | Promise
    description: str | Promise
    period_help: str | Promise
    selector: Callable[[Scope], list[Table]]
    charts: Callable[[list[Table]], list[SafeString]]
    #: The period the report opens with, from today's date, when the address names neither
    #: end of one; a form sent with both ends empty means every date.
    default_period: Callable[[dt.date], Period] | None = None


def this_year_on(today: dt.date) -> Period:
    """From 1 January of this year on (months ahead included: what is planned)."""
    return Period(start=today.replace(month=1, day=1))


def with_default_period(query: QueryDict, spec: ReportSpec, today: dt.date) -> QueryDict:
    """``query`` with the report's default period filled in when it names neither end."""
    if spec.default_period is None or "date_from" in query or "date_to" in query:
        return query
    period = spec.default_period(today)
    query = query.copy()
    query["date_from"] = period.start.isoformat() if period.start else ""
    query["date_to"] = period.end.isoformat() if period.end else ""
    return query


REPORTS: dict[str, ReportSpec] = {
    spec.name: spec
    for spec in (
        ReportSpec(
            "overview",
            _("Overview"),
            _("Per program: open cases by status, arrivals this year and in all, quota."),
            _("“To” sets the date the overview is as of (default: today)."),
            reports.overview,
            overview_charts,
        ),
        ReportSpec(
            "status-grants",
            _("Status grants by month"),
            _("Statuses granted each month, with the running total since the program began."),
            _("The period applies to the date the status was granted."),
            reports.status_grants,
            status_grant_charts,
        ),
        ReportSpec(
            "arrivals",
            _("Arrivals"),
            _("People arrived by destination region and year, and by country of origin."),
            _("The period applies to the arrival date."),
            reports.arrivals,
            arrival_charts,
        ),
        ReportSpec(
            "quota",
            _("Quota fulfilment"),
            _("Per region and year: quota, reserved, arrived, remaining, percent fulfilled."),
            _("The period selects quota years."),
            reports.quota_fulfilment,
            quota_charts,
        ),
        ReportSpec(
            "demographics",
            _("Demographics of arrivals"),
            _("People arrived in a period by age band, sex and education."),
            _("The period applies to the arrival date."),
            reports.demographics,
            demographic_charts,
        ),
        ReportSpec(
            "groups",
            _("Groups"),
            _("Each group's planned size, members by case status, and where they were placed."),
            _("The period applies to the group's planned date."),
            reports.groups,
            group_charts,
        ),
        ReportSpec(
            "stipends",
            _("Stipends"),
            _(
                "Planned and paid amounts by month, region and benefit, recipients, and totals "
                "per currency."
            ),
            _(
                "The period selects the months the payments are for. The report opens on the "
                "months from 1 January of this year on, planned months ahead included."
            ),
            reports.stipends,
            stipend_charts,
            default_period=this_year_on,
        ),
    )
}


def scope_for(request: HttpRequest, filterset: HouseholdFilter) -> Scope:
    """The report's scope: visible households and groups narrowed by the valid filters."""
    chosen = filterset.chosen
    groups = groups_for(request.user)
    if "program" in chosen:
        groups = groups.filter(program=chosen["program"])
    if "group" in chosen:
        groups = groups.filter(pk=chosen["group"].pk)
    if "origin" in chosen:
        groups = groups.filter(origin_country=chosen["origin"])
    return Scope(
        households=filterset.qs,
        groups=groups,
        period=filterset.clean_period(),
        program=chosen.get("program"),
        region=chosen.get("region"),
        today=timezone.localdate(),
    )


def filter_summary(filterset: HouseholdFilter) -> list[tuple[str, str]]:
    """The chosen filters as (label, value) text, for the printed page."""
    summary = []
    for name, value in filterset.chosen.items():
        if name == "status":
            text = ", ".join(str(CaseStatus(v).label) for v in value)
        else:
            text = str(value)
        summary.append((str(filterset.form.fields[name].label), text))
    return summary


def _csv_links(shown: QueryDict, tables: list[Table]) -> list[dict]:
    """Download links for the figures shown: the same filters, the default period included."""
    links = []
    for table in tables:
        query = shown.copy()
        query["format"] = "csv"
        query["table"] = table.code
        excel = query.copy()
        excel["dialect"] = "excel"
        links.append({"table": table, "csv": query.urlencode(), "excel": excel.urlencode()})
    return links


def _every_date(shown: QueryDict) -> str:
    """The query of the same report and filters over every date (both ends sent empty)."""
    query = shown.copy()
    query["date_from"] = query["date_to"] = ""
    return query.urlencode()


@login_required
@permission_required(VIEW_REPORTS, raise_exception=True)
def report_index(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "reports/index.html",
        {
            "reports": REPORTS.values(),
            "can_export": request.user.has_perm(EXPORT_PERSONAL_DATA),
        },
    )


@login_required
@permission_required(VIEW_REPORTS, raise_exception=True)
@reads_from_replica
def report(request: HttpRequest, name: str) -> HttpResponse:
    spec = REPORTS.get(name)
    if spec is None:
        raise Http404
    query = with_default_period(request.GET, spec, timezone.localdate())
    filterset = HouseholdFilter(query, queryset=households_for(request.user), request=request)
    wants_csv = query.get("format") == "csv"
    if not filterset.is_valid():
        if wants_csv:
            return HttpResponseBadRequest(filterset.errors.as_text(), content_type="text/plain")
        context = {"spec": spec, "filter": filterset, "reports": REPORTS.values()}
        return render(request, "reports/report.html", context, status=400)
    tables = spec.selector(scope_for(request, filterset))
    if wants_csv:
        codes = {t.code: t for t in tables}
        table = codes.get(query.get("table", tables[0].code))
        if table is None:
            return HttpResponseBadRequest("Unknown table", content_type="text/plain")
        dialect = CsvDialect.from_param(query.get("dialect"))
        filename = f"{spec.name}-{table.code}.csv"
        return csv_response(table_lines(table, dialect), filename)
    context = {
        "spec": spec,
        "filter": filterset,
        "tables": _csv_links(query, tables),
        "charts": spec.charts(tables),
        "reports": REPORTS.values(),
        "filter_summary": filter_summary(filterset),
        "every_date": _every_date(query) if spec.default_period else None,
    }
    return render(request, "reports/report.html", context)


def _export_filter(request: HttpRequest) -> ExportFilter:
    return ExportFilter(request.GET, queryset=households_for(request.user), request=request)


@login_required
@permission_required(EXPORT_PERSONAL_DATA, raise_exception=True)
@reads_from_replica
def export_households(request: HttpRequest) -> HttpResponse:
    filterset = _export_filter(request)
    if not filterset.is_valid():
        return HttpResponseBadRequest(filterset.errors.as_text(), content_type="text/plain")
    return personal_data_response(
        request=request,
        what="households.csv",
        queryset=filterset.qs.order_by("pk"),
        columns=household_export_columns(),
        dialect=CsvDialect.from_param(request.GET.get("dialect")),
        filters=request_filters(request),
    )


@login_required
@permission_required(EXPORT_PERSONAL_DATA, raise_exception=True)
@reads_from_replica
def export_persons(request: HttpRequest) -> HttpResponse:
    filterset = _export_filter(request)
    if not filterset.is_valid():
        return HttpResponseBadRequest(filterset.errors.as_text(), content_type="text/plain")
    persons = persons_for(request.user)
    if set(filterset.chosen) - {"date_field"}:
        # Without a filter the households are the user's own, which persons_for has already
        # applied; the semi-join would only cost time on a big register.
        persons = persons.filter(household__in=filterset.qs)
    return personal_data_response(
        request=request,
        what="persons.csv",
        queryset=persons.order_by("household_id", "pk"),
        columns=person_export_columns(),
        dialect=CsvDialect.from_param(request.GET.get("dialect")),
        filters=request_filters(request),
    )


@login_required
@permission_required(EXPORT_PERSONAL_DATA, raise_exception=True)
@reads_from_replica
def export_payments(request: HttpRequest) -> HttpResponse:
    """Every ledger line of the visible, filtered households (``exports.PAYMENT_COLUMNS``)."""
    filterset = PaymentExportFilter(
        request.GET, queryset=households_for(request.user), request=request
    )
    if not filterset.is_valid():
        return HttpResponseBadRequest(filterset.errors.as_text(), content_type="text/plain")
    payments = scope_queryset(
        request.user, Payment.objects.all(), household_path="grant__household"
    ).filter(grant__household__in=filterset.qs)
    return personal_data_response(
        request=request,
        what="payments.csv",
        queryset=filterset.filter_payments(payments).order_by("pk"),
        columns=payment_export_columns(),
        dialect=CsvDialect.from_param(request.GET.get("dialect")),
        filters=request_filters(request),
    )
