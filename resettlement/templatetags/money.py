"""Numbers and money in the active language: ``{{ amount|money:"KZT" }}`` → ``1 376 200 ₸``.

``USE_THOUSAND_SEPARATOR`` is off (years must stay "2026"), so quantities that should be grouped
say so: ``{{ people|number }}`` → ``1 164 800`` in ru/kk/ky, ``1,164,800`` in English. The
separators come from the active language's format module (tracker/formats). CSV files never use
these filters: they keep plain numbers (see csv_format.py).
"""

from decimal import Decimal, InvalidOperation

from django import template
from django.utils.formats import number_format

register = template.Library()

#: The sign written after the amount, per ISO 4217 code; unknown codes are written as the code.
CURRENCY_SIGNS = {"KZT": "₸", "KGS": "сом", "USD": "$", "RUB": "₽"}

NBSP = "\xa0"


def _decimal(value: object) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


@register.filter
def number(value: object) -> str:
    """A quantity grouped by thousands the local way; whole numbers without decimals."""
    amount = _decimal(value)
    if amount is None:
        return "" if value is None else str(value)
    places = 0 if amount == amount.to_integral_value() else 2
    return number_format(amount, decimal_pos=places, force_grouping=True)


@register.filter
def money(value: object, currency: str = "") -> str:
    """An amount with its currency sign after it, joined by a non-breaking space."""
    text = number(value)
    if not text or _decimal(value) is None:
        return text
    code = (currency or "").upper()
    sign = CURRENCY_SIGNS.get(code, code)
    return f"{text}{NBSP}{sign}" if sign else text
