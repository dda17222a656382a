"""Benefit arithmetic: index multiples, tiers, payment schedules and money formatting.

Pure functions on plain values — no database — so every figure can be checked by hand:
a family of 5 in the 2025 quota gets a relocation subsidy of 5 × 70 × 3,932 ₸ = 1,376,200 ₸.

A payment due in a given month is computed with the index value of that month's year
(MCI is fixed by law per calendar year), so a 12-month schedule that starts in October
is paid at one rate for three months and at the next year's rate for nine.
"""

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")

ONCE = "once"
MONTHLY = "monthly"


class MissingIndexValueError(LookupError):
    """No value of the benefit index is known for the year asked (or any year before it)."""


class TierOutOfRangeError(ValueError):
    """A tier chosen for a household lies outside the rule's range."""


@dataclass(frozen=True)
class ScheduleLine:
    """One payment of a schedule: who (``person_id`` or ``None`` for the household), when, how much."""

    period: dt.date
    person_id: int | None
    amount: Decimal
    index_value: Decimal | None
    index_year: int | None


def money(value: Decimal | int | str) -> Decimal:
    """Round to the cent, half up (as accountants do)."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def add_months(month: dt.date, count: int) -> dt.date:
    """The first day of the month ``count`` months after ``month``."""
    index = month.year * 12 + month.month - 1 + count
    return dt.date(index // 12, index % 12 + 1, 1)


def periods(*, start: dt.date, frequency: str, months: int) -> list[dt.date]:
    """The months (as first days) a rule pays in: one for a one-off rule, ``months`` for a monthly one."""
    first = month_start(start)
    if frequency == ONCE:
        return [first]
    if months < 1:
        raise ValueError("a monthly benefit runs for at least one month")
    return [add_months(first, i) for i in range(months)]


def index_for_year(values: Mapping[int, Decimal], year: int) -> tuple[int, Decimal]:
    """The index value to use for ``year``: that year's, else the latest earlier year's.

    A schedule may reach into a year whose value is not yet law; it is then planned with the
    last known value, and recomputed when the new value is entered.
    """
    known = [y for y in values if y <= year]
    if not known:
        raise MissingIndexValueError(year)
    used = max(known)
    return used, Decimal(values[used])


def chosen_multiplier(*, low: Decimal, high: Decimal | None, tier: Decimal | None) -> Decimal:
    """The amount or multiple a household gets: the rule's own, or the tier chosen within its range."""
    if high is None:
        if tier is not None and Decimal(tier) != Decimal(low):
            raise TierOutOfRangeError(tier)
        return Decimal(low)
    if tier is None or not Decimal(low) <= Decimal(tier) <= Decimal(high):
        raise TierOutOfRangeError(tier)
    return Decimal(tier)


def unit_amount(*, multiplier: Decimal, index_value: Decimal | None) -> Decimal:
    """One payment: a multiple of the index, or (no index) the multiplier is the fixed amount."""
    if index_value is None:
        return money(multiplier)
    return money(Decimal(multiplier) * Decimal(index_value))


def schedule(
    *,
    start: dt.date,
    frequency: str,
    months: int,
    multiplier: Decimal,
    index_values: Mapping[int, Decimal] | None,
    person_ids: Sequence[int | None],
) -> list[ScheduleLine]:
    """Every payment of a grant: one per period, and per person for per-person rules.

    ``person_ids`` is ``[None]`` for a per-household rule. ``index_values`` is ``None`` for a
    fixed-amount rule, else the index value per year.
    """
    lines = []
    for period in periods(start=start, frequency=frequency, months=months):
        year, value = (None, None)
        if index_values is not None:
            year, value = index_for_year(index_values, period.year)
        amount = unit_amount(multiplier=multiplier, index_value=value)
        lines.extend(
            ScheduleLine(
                period=period,
                person_id=person_id,
                amount=amount,
                index_value=value,
                index_year=year,
            )
            for person_id in person_ids
        )
    return lines


def total(lines: Sequence[ScheduleLine]) -> Decimal:
    return money(sum((line.amount for line in lines), Decimal(0)))


def format_money(amount: Decimal | int | None, symbol: str) -> str:
    """``1,376,200 ₸``, ``12,500.50 сом``: thousands separated, cents only when there are any."""
    if amount is None:
        return "—"
    value = money(amount)
    text = f"{value:,.2f}"
    if text.endswith(".00"):
        text = text[:-3]
    return f"{text} {symbol}".strip()
