"""Validators for identity numbers."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


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
