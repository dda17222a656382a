"""The report filters' select widgets write exactly the HTML of Django's."""

import pytest
from django import forms
from django.utils.safestring import mark_safe

from resettlement.widgets import FastSelect, FastSelectMultiple

CHOICES = [
    ("", "---------"),
    ("KZ-55", "Павлодар облысы"),
    (7, 'Group "A" <b>&</b> co'),
    ("x\"'<>", "quotes ' \" < >"),
    (mark_safe("<b>v</b>"), mark_safe("<b>safe label</b>")),
]
GROUPED = [
    ("Kazakhstan", [("KZ-71", "Астана"), ("KZ-55", "Pavlodar")]),
    ("Kyrgyzstan", [("KG-O-ALA", "Алай")]),
    ("", "none"),
]


@pytest.mark.parametrize("choices", [CHOICES, GROUPED, []])
@pytest.mark.parametrize("value", [None, "", "KZ-55", 7, ["KZ-55", "KG-O-ALA"]])
@pytest.mark.parametrize(
    ("ours", "djangos"), [(FastSelect, forms.Select), (FastSelectMultiple, forms.SelectMultiple)]
)
def test_it_renders_what_django_renders(ours, djangos, choices, value):
    attrs = {
        "id": "id_region",
        "class": "wide",
        "data-x": 'a"b',
        "data-safe": mark_safe("<i>&amp;</i>"),
        "required": True,
        "off": False,
    }

    mine = ours(choices=choices).render("region", value, attrs=attrs)
    theirs = djangos(choices=choices).render("region", value, attrs=attrs)

    assert mine == theirs
