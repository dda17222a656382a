"""Numbers and money in the active language: ``{{ amount|money:"KZT" }}`` → ``1 376 200 ₸``.

``USE_THOUSAND_SEPARATOR`` is off (years must stay "2026"), so quantities that should be grouped
say so: ``{{ people|number }}`` → ``1 164 800`` in ru/kk/ky, ``1,164,800`` in English. The
separators come from the active language's format module (tracker/formats). CSV files never use
these filters: they keep plain numbers (see csv_format.py).
"""

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django import template
from django.utils import numberformat
from django.utils.formats import get_format
from django.utils.translation import get_language

register = template.Library()

#: The sign written after the amount, per ISO 4217 code; unknown codes are written as the code.
CURRENCY_SIGNS = {"KZT": "₸", "KGS": "сом", "USD": "$", "RUB": "₽"}

NBSP = "\xa0"


@dataclass(frozen=True)
class NumberFormat:
    """The active language's separators, looked up once for a table of numbers."""

    decimal_separator: str
    grouping: int
    thousand_separator: str

    @classmethod
    def current(cls) -> "NumberFormat":
        lang = get_language()
        return cls(
            get_format("DECIMAL_SEPARATOR", lang),
            get_format("NUMBER_GROUPING", lang),
            get_format("THOUSAND_SEPARATOR", lang),
        )


def _decimal(value: object) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def format_number(value: object, fmt: NumberFormat) -> str:
    """A quantity grouped by thousands in ``fmt``; whole numbers without decimals."""
    amount = _decimal(value)
    if amount is None:
        return "" if value is None else str(value)
    places = 0 if amount == amount.to_integral_value() else 2
    return numberformat.format(
        amount,
        fmt.decimal_separator,
        places,
        fmt.grouping,
        fmt.thousand_separator,
        force_grouping=True,
    )


def format_money(value: object, currency: str, fmt: NumberFormat) -> str:
    """An amount in ``fmt`` with its currency sign after it, joined by a non-breaking space."""
    text = format_number(value, fmt)
    if not text or _decimal(value) is None:
        return text
    code = (currency or "").upper()
    sign = CURRENCY_SIGNS.get(code, code)
    return f"{text}{NBSP}{sign}" if sign else text


@register.filter
def number(value: object) -> str:
    """A quantity grouped by thousands the local way; whole numbers without decimals."""
    return format_number(value, NumberFormat.current())


@register.filter
def money(value: object, currency: str = "") -> str:
    """An amount with its currency sign after it, joined by a non-breaking space."""
    return format_money(value, currency, NumberFormat.current())
