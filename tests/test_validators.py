"""Kazakhstan's IIN: 12 digits whose last one is a mod-11 check digit."""

import pytest
from django.core.exceptions import ValidationError

from resettlement.validators import make_iin, validate_iin

FORMAT_MESSAGE = "An IIN has exactly 12 digits."
CHECKSUM_MESSAGE = (
    "This IIN is not valid: its last digit does not match. Check it against the document."
)


def test_it_completes_an_iin_with_the_first_check_digit():
    # 7·1 + 5·2 + 1·4 + 1·6 + 3·7 + 1·10 + 2·11 = 80 = 7·11 + 3
    assert make_iin("75010130012") == "750101300123"


def test_it_completes_an_iin_with_the_second_weights_when_the_first_sum_gives_ten():
    # Weights 1..11 give 10; weights 3..11,1,2 give 1.
    assert make_iin("75010130051") == "750101300511"


def test_it_refuses_to_complete_an_iin_when_both_weightings_give_ten():
    with pytest.raises(ValueError, match="No valid IIN starts with 75010130050"):
        make_iin("75010130050")


@pytest.mark.parametrize(
    "first_eleven", ["75010130012", "75010130051", "98123145678", "00000000001"]
)
def test_it_accepts_a_valid_iin(first_eleven):
    iin = make_iin(first_eleven)

    validate_iin(iin)  # does not raise


@pytest.mark.parametrize("first_eleven", ["75010130012", "75010130051", "98123145678"])
def test_it_refuses_every_other_last_digit(first_eleven):
    valid = make_iin(first_eleven)
    wrong = [first_eleven + d for d in "0123456789" if first_eleven + d != valid]

    refusals = []
    for iin in wrong:
        with pytest.raises(ValidationError) as error:
            validate_iin(iin)
        refusals.append((error.value.code, error.value.messages))

    assert refusals == [("iin_checksum", [CHECKSUM_MESSAGE])] * 9


@pytest.mark.parametrize(
    "value",
    [
        "",
        "75010130012",  # 11 digits
        "7501013001230",  # 13 digits
        "75010130012A",  # a letter
        "7501013 0123",  # a space
        "750101-00123",  # a dash
        "75010130012²",  # a digit to Python, not a digit of an IIN
        "７５０１０１３００１２３",  # a valid IIN in full-width digits
    ],
)
def test_it_refuses_anything_but_twelve_ascii_digits(value):
    with pytest.raises(ValidationError) as error:
        validate_iin(value)

    assert (error.value.code, error.value.messages) == ("iin_format", [FORMAT_MESSAGE])
