"""Transaction-scoped advisory locks that serialise recomputations of derived rows.

The per-household summaries (``HouseholdSummary``, ``PaymentMonth``) are recomputed by deleting
a household's rows and inserting them again. Two transactions doing that for one household at
once (two members saved, two of its payments paid at the same moment) would collide: the second
delete does not see the rows the first inserted, and the second insert then breaks the unique
key. :func:`serialise_households` makes the second wait until the first has committed; the delete
that follows sees what it wrote. The locks are taken in id order (two recomputations never wait
for each other in a circle) and held to the end of the transaction. SQLite runs one writer at a
time and needs none.
"""

from collections.abc import Iterable

from django.db import connection

#: The first key of each kind of lock (the second is the household's id).
HOUSEHOLD_SUMMARY = 7300
PAYMENT_MONTHS = 7301


def serialise_households(namespace: int, household_ids: Iterable[int]) -> None:
    """Wait for any other transaction holding ``namespace``'s lock on these households."""
    ids = sorted(set(household_ids))
    if connection.vendor != "postgresql" or not ids:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, id) FROM (SELECT unnest(%s::int[]) AS id "
            "ORDER BY 1) AS ids",
            [namespace, ids],
        )
