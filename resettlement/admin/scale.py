"""Changelist pieces that stay fast on a register of a million people, showing the same things.

- :class:`EstimatedCountPaginator`: the unfiltered count of a big table comes from PostgreSQL's
  statistics (``pg_class.reltuples``, kept current by autovacuum and ANALYZE) instead of
  ``COUNT(*)`` over every row. It is an estimate (typically within a fraction of a percent after
  ANALYZE); below ``ESTIMATE_FROM`` rows, and for every filtered list, the count is exact.
- List filters whose choices come from the small reference tables (``RelatedFieldListFilter``,
  :class:`QuotaYearFilter`) instead of ``SELECT DISTINCT`` over the big table, which
  ``RelatedOnlyFieldListFilter`` and plain field filters run on every page.
"""

from django.contrib import admin
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from ..models import RegionQuota

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


class EstimatedCountPaginator(Paginator):
    """A paginator that estimates the count of an unfiltered, big PostgreSQL table."""

    estimate_from = ESTIMATE_FROM

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        # Without a WHERE (and without DISTINCT) the list has as many rows as the table.
        if (
            isinstance(queryset, QuerySet)
            and not queryset.query.where
            and not queryset.query.distinct
        ):
            rows = table_count(queryset, self.estimate_from)
            if rows is not None:
                return rows
        return super().count


class BigChangelistMixin:
    """For model admins of tables with millions of rows (households, people)."""

    paginator = EstimatedCountPaginator
    # No second COUNT(*) of the whole table under a filtered list.
    show_full_result_count = False


class ReferenceListFilter(admin.RelatedFieldListFilter):
    """Choices from the related (small) table, not ``DISTINCT`` over the big one."""


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
