"""Search in any script and case: names, references, document numbers, IINs.

Every term is turned into a search key in Python (see ``text.search_key``) and matched against
keys stored in the database, so neither SQLite nor PostgreSQL is ever asked to case-fold.
Several words must all match (in any order and any name field).

Every condition is written so that PostgreSQL can answer each part from an index (the trigram
index on the search key, the b-trees on document key, IIN and upper-cased reference) and never
scans the people table: an ``OR`` that spans two tables (or an ``EXISTS`` per household row) would
force it to. So households are found as ``pk IN (reference matches UNION households of matching
members)``, and a person search looks the reference up first and filters people on their own
columns. ``tests/test_query_counts.py`` checks the plans with ``EXPLAIN``.
"""

from django.db import connections
from django.db.models import F, Lookup, Q, QuerySet

from ..models import Household, Person
from ..text import normalise_document_number, search_key


def _terms(query: str) -> list[str]:
    return [t for t in query.split() if t]


def person_term_filter(term: str, prefix: str = "") -> Q:
    """Match one typed word against a person's names (either script), document or IIN."""
    condition = Q()
    key = search_key(term)
    if key:
        condition |= Q(**{f"{prefix}search_key__contains": key})
    document = normalise_document_number(term)
    if document:
        condition |= Q(**{f"{prefix}document_key": document})
    if term.isdigit() and len(term) == 12:
        condition |= Q(**{f"{prefix}iin": term})
    return condition


def _whole_document(query: str, prefix: str = "") -> Q:
    """A document number typed with spaces ("N 1234-56") is one number, not several words."""
    terms = _terms(query)
    document = normalise_document_number(query)
    if len(terms) > 1 and document:
        return Q(**{f"{prefix}document_key": document})
    return Q(pk__in=[])


def search_persons(queryset: QuerySet[Person], query: str) -> QuerySet[Person]:
    """People whose names, document number or IIN match every word of ``query``
    (or whose household's reference is that word)."""
    if not _terms(query):
        return queryset
    every_word = Q()
    for term in _terms(query):
        condition = person_term_filter(term)
        # The reference is looked up first (one indexed query), so that the people table is
        # filtered on its own columns only and every part of the OR is served by an index.
        households = list(
            Household.objects.filter(reference__iexact=term).values_list("pk", flat=True)[:100]
        )
        if households:
            condition |= Q(household_id__in=households)
        every_word &= condition
    return queryset.filter(every_word | _whole_document(query))


def search_households(queryset: QuerySet[Household], query: str) -> QuerySet[Household]:
    """Households whose reference matches, or that have one member matching every word."""
    return search_households_counted(queryset, query)[0]


def search_households_counted(
    queryset: QuerySet[Household], query: str
) -> tuple[QuerySet[Household], int | None]:
    """``search_households``, and the number of households found when it is known without
    another query (the matches were looked up as ids and ``queryset`` was not filtered), so
    that the list need not count them again; else None."""
    terms = _terms(query)
    if not terms:
        return queryset, None
    every_word = Q()
    for term in terms:
        every_word &= person_term_filter(term)
    matches = (
        Person.objects.order_by().filter(every_word | _whole_document(query)).values("household_id")
    )
    if len(terms) == 1:
        by_reference = (
            Household.objects.order_by().filter(reference__icontains=terms[0]).values("pk")
        )
        found = _found_ids(by_reference, matches)
        if found is not None:
            known = None if queryset.query.where else len(found)
            return queryset.filter(_AnyOf(F("pk"), found)), known
        matches = by_reference.union(matches)
    return queryset.filter(pk__in=matches), None


#: Up to this many matching rows (members and references; a household counts once per
#: matching member), the matching households are looked up once, as ids, and the list reads
#: them by id: the admin runs the search twice otherwise (the count, then the page), each time
#: through the indexes and a join with every household. The ids go in one parameter.
RESOLVE_LIMIT = 50_000


def _found_ids(by_reference: QuerySet, by_member: QuerySet) -> list[int] | None:
    """The ids of the households of both queries, when they come from at most
    ``RESOLVE_LIMIT`` rows (one statement that stops reading after one more); ``None`` when
    there are more."""
    rows = by_reference.union(by_member, all=True).values_list("pk", flat=True)[: RESOLVE_LIMIT + 1]
    if connections[by_member.db].vendor == "postgresql":
        # The database counts the rows and returns each household once, sorted, as one array:
        # a common surname matches tens of thousands of members in a few thousand households,
        # and reading each row into Python cost more than the search.
        sql, params = rows.query.sql_with_params()
        with connections[by_member.db].cursor() as cursor:
            cursor.execute(
                f"SELECT count(*), array_agg(DISTINCT r.pk ORDER BY r.pk) FROM ({sql}) AS r(pk)",  # noqa: S608
                params,
            )
            count, ids = cursor.fetchone()
        return None if count > RESOLVE_LIMIT else (ids or [])
    found = list(rows)
    if len(found) > RESOLVE_LIMIT:
        return None
    return sorted(set(found))


class _AnyOf(Lookup):
    """``column`` is one of a list of integers, passed as one parameter: an array literal on
    PostgreSQL, a JSON list on SQLite. (A parameter per id is slower to send than the query
    is to run for 10,000 ids, and SQLite allows only 32,766.)"""

    prepare_rhs = False  # a list of ids, not one value of the column

    def _ids(self) -> str:
        return ",".join(str(int(i)) for i in self.rhs)  # ``int`` refuses anything else

    def as_postgresql(self, compiler, connection) -> tuple[str, list]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s::bigint[])", [*lhs_params, "{" + self._ids() + "}"]

    def as_sqlite(self, compiler, connection) -> tuple[str, list]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        sql = f"{lhs} IN (SELECT value FROM json_each(%s))"  # noqa: S608 - lhs is a column
        return sql, [*lhs_params, f"[{self._ids()}]"]


def search_by_key(queryset: QuerySet, query: str) -> QuerySet:
    """For reference rows with a ``search_key`` field (regions, countries, groups, programs)."""
    for term in _terms(query):
        key = search_key(term)
        if key:
            queryset = queryset.filter(search_key__contains=key)
    return queryset
