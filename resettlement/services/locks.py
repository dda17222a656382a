"""Transaction-scoped advisory locks that serialise recomputations of derived rows.

The per-household summaries (``HouseholdSummary``, ``PaymentMonth``) are recomputed by deleting
a household's rows and inserting them again. Two transactions doing that for one household at
once (two members saved, two of its payments paid at the same moment) would collide: the second
delete does not see the rows the first inserted, and the second insert then breaks the unique
key. :func:`serialise_households` makes the second wait until the first has committed; the
statements that follow see what it wrote.

A recomputation of a few households takes the kind's lock in shared mode and one exclusive lock
per household, in id order (two of them never wait for each other in a circle). One of many
households (an import, a payment run, everything) takes the kind's lock exclusively instead:
PostgreSQL's lock table has room for a few thousand locks in all, not one per household of a
50,000-row file. The locks are held to the end of the transaction. SQLite runs one writer at a
time and needs none.
"""

from collections.abc import Callable, Iterable

from django.db import connection

#: The first key of each kind of lock (the second is the household's id, or ``EVERY``).
HOUSEHOLD_SUMMARY = 7300
PAYMENT_MONTHS = 7301
#: The second key of the lock over every household of a kind.
EVERY = -1
#: Above this many households one lock covers them all.
FEW = 100
#: Households per recomputing statement (keeps ``IN (...)`` lists short on SQLite).
CHUNK = 2000


def serialise_households(namespace: int, household_ids: Iterable[int] | None) -> None:
    """Wait for any other transaction recomputing these households (``None``: every one)."""
    if connection.vendor != "postgresql":
        return
    ids = None if household_ids is None else sorted(set(household_ids))
    if ids == []:
        return
    with connection.cursor() as cursor:
        if ids is None or len(ids) > FEW:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [namespace, EVERY])
            return
        cursor.execute("SELECT pg_advisory_xact_lock_shared(%s, %s)", [namespace, EVERY])
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, id) FROM (SELECT unnest(%s::int[]) AS id "
            "ORDER BY 1) AS ids",
            [namespace, ids],
        )


def recompute_in_turn(
    namespace: int,
    recompute: Callable[[list[int] | None], None],
    household_ids: Iterable[int | None] | None,
) -> None:
    """Take turns (:func:`serialise_households`), then ``recompute`` the households'
    rows, ``CHUNK`` households at a time (``None``: every household, at once)."""
    if household_ids is None:
        serialise_households(namespace, None)
        recompute(None)
        return
    ids = sorted({i for i in household_ids if i is not None})
    serialise_households(namespace, ids)
    for start in range(0, len(ids), CHUNK):
        recompute(ids[start : start + CHUNK])
