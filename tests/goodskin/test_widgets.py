"""goodskin.widgets writes the same HTML as Django's own widgets' templates."""

import pytest
from django import forms

from goodskin import widgets

CHOICES = [
    ("", "---------"),
    ("America/Los_Angeles", "America/Los_Angeles"),
    ("a&b", 'Say "hi" <b>'),
    (7, "Seven"),
]
GROUPED = [
    ("West", [("America/Los_Angeles", "Pacific"), ("America/Denver", "Mountain")]),
    ("East", [("America/New_York", "Eastern")]),
    ("UTC", "UTC"),
]


class Ours(forms.Form):
    zone = forms.ChoiceField(choices=CHOICES, widget=widgets.Select)


class Djangos(forms.Form):
    zone = forms.ChoiceField(choices=CHOICES)


@pytest.mark.parametrize("choices", [CHOICES, GROUPED], ids=["plain", "grouped"])
@pytest.mark.parametrize("value", [None, "", "America/Los_Angeles", "a&b", 7, "unknown"])
@pytest.mark.parametrize(
    "attrs",
    [
        None,
        {"class": "form-select is-invalid", "aria-invalid": "true", "required": True},
        {"id": "id_x", "disabled": True, "autofocus": False, "data-x": 'q"<'},
    ],
)
def test_our_select_writes_what_djangos_select_writes(choices, value, attrs):
    ours = widgets.Select(choices=choices).render("time_zone", value, attrs)
    django = forms.Select(choices=choices).render("time_zone", value, attrs)
    assert ours == django


def test_our_select_in_a_bound_form_writes_what_djangos_select_writes():
    for data in ({"zone": "a&b"}, {"zone": "nowhere"}, {}):
        ours, django = Ours(data), Djangos(data)
        ours.is_valid(), django.is_valid()
        assert str(ours["zone"]) == str(django["zone"])


def test_crispy_forms_writes_our_select_as_it_writes_djangos():
    from django.template import engines

    field = engines["django"].from_string(
        "{% load crispy_forms_tags %}{{ f.zone|as_crispy_field }}"
    )
    for data in ({"zone": "a&b"}, {"zone": "nowhere"}):
        assert field.render({"f": Ours(data)}) == field.render({"f": Djangos(data)})
