"""Changelist pieces that stay fast on a register of a million people, showing the same things.

- :class:`EstimatedCountPaginator`: the unfiltered count of a big table comes from PostgreSQL's
  statistics (``pg_class.reltuples``, kept current by autovacuum and ANALYZE) instead of
  ``COUNT(*)`` over every row, and a list filtered to more than ``ESTIMATE_FROM`` rows takes the
  planner's estimate. These are estimates (within a fraction of a percent of the table after
  ANALYZE; a few percent for a filter); smaller lists and every search are counted exactly.
- List filters whose choices come from the small reference tables (``RelatedFieldListFilter``,
  :class:`QuotaYearFilter`) instead of ``SELECT DISTINCT`` over the big table, which
  ``RelatedOnlyFieldListFilter`` and plain field filters run on every page.
"""

import json
import time
import uuid
from collections.abc import Iterator
from types import SimpleNamespace
from urllib.parse import quote_plus

from django.contrib import admin
from django.contrib.admin import helpers
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.views.main import SEARCH_VAR, ChangeList
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db import connections, transaction
from django.db.models import QuerySet
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from ..models import Country, Group, Program, Region, RegionQuota
from ..selectors.access import choices_for

#: Tables smaller than this are counted exactly: the count is cheap and a user sees exact figures.
ESTIMATE_FROM = 100_000


def table_count(queryset: QuerySet, estimate_from: int) -> int | None:
    """The rows of the queryset's table: PostgreSQL's estimate when it is at least
    ``estimate_from``, else an exact ``COUNT(*)`` — in one query. None on other databases."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    table = connection.ops.quote_name(queryset.model._meta.db_table)
    # The only interpolated name is the model's own table, quoted.
    count = f"SELECT COUNT(*) FROM {table}"  # noqa: S608
    sql = "SELECT CASE WHEN reltuples >= %s THEN reltuples::bigint ELSE (" + count + ") END "
    sql += "FROM pg_class WHERE oid = %s::regclass"
    with connection.cursor() as cursor:
        cursor.execute(sql, [estimate_from, table])
        row = cursor.fetchone()
    return row[0] if row else None


def planner_estimate(queryset: QuerySet) -> int | None:
    """PostgreSQL's planner estimate of the rows of a filtered queryset (one EXPLAIN, no scan)."""
    if connections[queryset.db].vendor != "postgresql":
        return None
    plan = json.loads(queryset.order_by().explain(format="json"))
    return int(plan[0]["Plan"]["Plan Rows"])


class EstimatedCountPaginator(Paginator):
    """A paginator that estimates the count of a big PostgreSQL list.

    Unfiltered: from the table's statistics. Filtered by list filters (``estimate_filtered``):
    from the planner's estimate when that is at least ``estimate_from`` rows — counting 600,000
    matching rows exactly takes longer than the rest of the page. Searches are always counted
    exactly (a ``LIKE`` estimate can be far off, and search results are small).
    """

    estimate_from = ESTIMATE_FROM

    def __init__(
        self, *args, estimate_filtered: bool = False, known_count: int | None = None, **kwargs
    ) -> None:
        super().__init__(*args, **kwargs)
        self.estimate_filtered = estimate_filtered
        self.known_count = known_count

    @cached_property
    def count(self) -> int:
        if self.known_count is not None:
            return self.known_count
        queryset = self.object_list
        if isinstance(queryset, QuerySet) and not queryset.query.distinct:
            if not queryset.query.where:
                # Without a WHERE the list has as many rows as the table.
                rows = table_count(queryset, self.estimate_from)
                if rows is not None:
                    return rows
            elif self.estimate_filtered:
                estimate = planner_estimate(queryset)
                if estimate is not None and estimate >= self.estimate_from:
                    return estimate
        return super().count


def split_link(link: str, placeholder: str) -> tuple[str, str] | None:
    """A link built once with ``placeholder`` standing for a value, split around it, so that
    the link for each value is ``before + value + after``; None unless it appears exactly once
    (someone typed the placeholder into the URL: build each link the slow way)."""
    if link.count(placeholder) != 1:
        return None
    before, after = link.split(placeholder)
    return before, after


class BigChangeList(ChangeList):
    """Django's changelist with each row's link made from one link built once per page.

    Django reverses the change URL for every row and, when the list is searched or filtered,
    resolves that URL again to add the list's filters to it (``add_preserved_filters``): a
    tenth of a searched list page's time. The links are the same.
    """

    PLACEHOLDER = "BIGCHANGELISTPK0"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        link = add_preserved_filters(
            {"preserved_filters": self.preserved_filters, "opts": self.opts},
            super().url_for_result(SimpleNamespace(**{self.pk_attname: self.PLACEHOLDER})),
        )
        self._link = split_link(link, self.PLACEHOLDER)
        if self._link is not None:
            # Already in every link: Django's rendering adds nothing more.
            self.preserved_filters = ""

    def url_for_result(self, result) -> str:
        pk = getattr(result, self.pk_attname)
        if self._link is None or not isinstance(pk, int):
            return super().url_for_result(result)
        before, after = self._link
        return f"{before}{pk}{after}"


#: Django's own words for the checkbox, translated in Django's catalogs (not in ours).
DJANGO_CHECKBOX_LABEL = "Select this object for an action - {}"


class BigChangelistMixin:
    """For model admins of tables with millions of rows (households, people)."""

    def get_changelist(self, request: HttpRequest, **kwargs) -> type[ChangeList]:
        return BigChangeList

    @admin.display(description=mark_safe('<input type="checkbox" id="action-toggle">'))
    def action_checkbox(self, obj) -> str:
        """Django's row checkbox, the same HTML written directly: Django renders a form widget
        through the template engine for each row, a fifth of a list page's time."""
        label = format_html(gettext(DJANGO_CHECKBOX_LABEL), str(obj))
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            helpers.ACTION_CHECKBOX_NAME,
            str(obj.pk),
            label,
        )

    paginator = EstimatedCountPaginator
    # No second COUNT(*) of the whole table under a filtered list.
    show_full_result_count = False

    def get_paginator(
        self,
        request: HttpRequest,
        queryset: QuerySet,
        per_page: int,
        orphans: int = 0,
        allow_empty_first_page: bool = True,
    ) -> Paginator:
        return self.paginator(
            queryset,
            per_page,
            orphans,
            allow_empty_first_page,
            estimate_filtered=not request.GET.get(SEARCH_VAR),
            # Set by a search that already knows how many rows it found.
            known_count=getattr(request, "search_result_count", None),
        )


class ReferenceListFilter(admin.RelatedFieldListFilter):
    """Choices from the related (small) table, not ``DISTINCT`` over the big one.

    The choices are the rows the user may see (their programs, groups and regions), so a
    filter never reveals what lies outside their scope.
    """

    template = "admin/resettlement/reference_filter.html"
    #: Stands for a choice's id in the one link that is built for all the choices.
    PLACEHOLDER = "REFERENCEFILTERCHOICE0"

    def choices(self, changelist) -> Iterator[dict]:
        """Django's choices, with each choice's link made from one link built once (the links
        differ only in this filter's value): ``get_query_string`` per choice re-encodes every
        parameter, hundreds of times per page for the groups."""
        if changelist.add_facets:
            yield from super().choices(changelist)
            return
        link = changelist.get_query_string(
            {self.lookup_kwarg: self.PLACEHOLDER}, [self.lookup_kwarg_isnull]
        )
        parts = split_link(link, self.PLACEHOLDER)
        if parts is None:
            yield from super().choices(changelist)
            return
        before, after = parts
        yield {
            "selected": self.lookup_val is None and not self.lookup_val_isnull,
            "query_string": changelist.get_query_string(
                remove=[self.lookup_kwarg, self.lookup_kwarg_isnull]
            ),
            "display": _("All"),
        }
        for pk_val, val in self.lookup_choices:
            yield {
                "selected": self.lookup_val is not None and str(pk_val) in self.lookup_val,
                "query_string": before + quote_plus(str(pk_val)) + after,
                "display": val,
            }
        if self.include_empty_choice:
            yield {
                "selected": bool(self.lookup_val_isnull),
                "query_string": changelist.get_query_string(
                    {self.lookup_kwarg_isnull: "True"}, [self.lookup_kwarg]
                ),
                "display": self.empty_value_display,
            }

    def field_choices(self, field, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        model = field.related_model
        scoped = choices_for(request.user, model)
        if scoped is None:
            scoped = model._default_manager.complex_filter(field.get_limit_choices_to())
        ordering = self.field_admin_ordering(field, request, model_admin)
        rows = scoped.order_by(*(ordering or model._meta.ordering))
        # The rows a user may pick, kept per worker under the statement that reads them (it
        # carries the user's scope) and the language (names are translated).
        sql, params = rows.query.sql_with_params()
        key = (sql, tuple(params), get_language(), rows.db)
        stamp = cache.get(CHOICES_STAMP)
        kept = _kept_choices.get(key)
        if kept is not None and kept[0] == stamp and time.monotonic() - kept[1] < CHOICES_MAX_AGE:
            return kept[2]
        choices = [(obj.pk, str(obj)) for obj in rows]
        _kept_choices[key] = (stamp, time.monotonic(), choices)
        return choices


#: The cache key whose value changes whenever a program, region, group or country is saved or
#: deleted (by any worker: the cache is shared); a filter's kept choices are used only under
#: the value they were read with.
CHOICES_STAMP = "reference-filter-choices-stamp"
#: Seconds a worker keeps a filter's choices at most: rows written without signals (bulk
#: loads) show within this time.
CHOICES_MAX_AGE = 60
#: ``(statement, params, language, alias) -> (stamp, monotonic time, choices)``, per process.
_kept_choices: dict[tuple, tuple[object, float, list]] = {}


def forget_filter_choices() -> None:
    """Every worker reads the reference filters' choices again (a new stamp in the cache)."""
    cache.set(CHOICES_STAMP, uuid.uuid4().hex, None)
    _kept_choices.clear()


@receiver(post_save, sender=Program, dispatch_uid="filter_choices_program_saved")
@receiver(post_delete, sender=Program, dispatch_uid="filter_choices_program_deleted")
@receiver(post_save, sender=Region, dispatch_uid="filter_choices_region_saved")
@receiver(post_delete, sender=Region, dispatch_uid="filter_choices_region_deleted")
@receiver(post_save, sender=Group, dispatch_uid="filter_choices_group_saved")
@receiver(post_delete, sender=Group, dispatch_uid="filter_choices_group_deleted")
@receiver(post_save, sender=Country, dispatch_uid="filter_choices_country_saved")
@receiver(post_delete, sender=Country, dispatch_uid="filter_choices_country_deleted")
def _reference_row_changed(sender, **kwargs) -> None:
    # After the commit: a worker reading the choices before it would keep the old rows under
    # the new stamp.
    transaction.on_commit(forget_filter_choices)


class QuotaYearFilter(admin.SimpleListFilter):
    """Quota year, with the years that have quotas (a small table) as choices."""

    title = _("quota year")
    parameter_name = "quota_year"
    NOT_IN_QUOTA = "none"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        years = RegionQuota.objects.order_by("-year").values_list("year", flat=True).distinct()
        return [(str(year), str(year)) for year in years] + [
            (self.NOT_IN_QUOTA, _("Not in the quota"))
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if value == self.NOT_IN_QUOTA:
            return queryset.filter(quota_year__isnull=True)
        if value and value.isdigit():
            return queryset.filter(quota_year=int(value))
        return queryset
