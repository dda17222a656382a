"""Validators for identity numbers and years of birth."""

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

#: The earliest year of birth the tracker takes.
FIRST_BIRTH_YEAR = 1900


def validate_birth_year(year: int) -> None:
    """A year of birth from :data:`FIRST_BIRTH_YEAR` to this year."""
    this_year = timezone.localdate().year
    if not FIRST_BIRTH_YEAR <= year <= this_year:
        raise ValidationError(
            _("A year of birth from %(first)d to %(last)d."),
            code="birth_year",
            params={"first": FIRST_BIRTH_YEAR, "last": this_year},
        )


def iin_checksum_ok(iin: str) -> bool:
    """Kazakhstan's IIN check digit: weights 1..11, mod 11; on 10, weights 3..11,1,2; 10 again is invalid."""
    if len(iin) != 12 or not iin.isdigit():
        return False
    digits = [int(c) for c in iin]
    for weights in (range(1, 12), [3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2]):
        check = sum(d * w for d, w in zip(digits[:11], weights, strict=True)) % 11
        if check != 10:
            return check == digits[11]
    return False


def validate_iin(value: str) -> None:
    if len(value) != 12 or not (value.isascii() and value.isdigit()):
        raise ValidationError(_("An IIN has exactly 12 digits."), code="iin_format")
    if not iin_checksum_ok(value):
        raise ValidationError(
            _(
                "This IIN is not valid: its last digit does not match. Check it against the document."
            ),
            code="iin_checksum",
        )


def make_iin(first_eleven: str) -> str:
    """Complete 11 digits with the check digit, or raise ValueError when no digit fits (tests, demo data)."""
    for last in "0123456789":
        if iin_checksum_ok(first_eleven + last):
            return first_eleven + last
    raise ValueError(f"No valid IIN starts with {first_eleven}")
