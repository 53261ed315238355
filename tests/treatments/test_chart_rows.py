"""The chart form's rows written in Python (treatments.chart_rows): the same HTML as the template
loop they replace (kept here as the reference), for a new chart, for areas chosen and typed
well, and for every kind of mistake; and numbers an input of type number can show in Spanish."""

import re

import pytest
from django.http import QueryDict
from django.template import engines
from django.utils import translation

from tests.treatments.test_charts import chart_data
from treatments import chart_rows, regions, selectors
from treatments.forms import ChartForms

pytestmark = pytest.mark.django_db

# templates/treatments/chart_form.html's loop before it was written in Python.
REFERENCE = """{% for area, shown in forms.rows %}
      <tr data-area-row="{{ area.region }}" {% if not shown %}hidden{% endif %}>
        <th scope="row" class="fw-normal">{{ area.region_label }}{% if area.non_field_errors %}<div class="text-danger small">{{ area.non_field_errors|join:" " }}</div>{% endif %}</th>
        {% for field in area %}
        <td>
          <label class="visually-hidden" for="{{ field.id_for_label }}">{{ area.region_label }}: {{ field.label }}</label>
          {% if field.field.widget.input_type == "select" %}<select name="{{ field.html_name }}" id="{{ field.id_for_label }}" class="form-select form-select-sm gs-chart-select gs-chart-{{ field.name }}{% if field.errors %} is-invalid{% endif %}"{% if field.name == "agent" %} data-agent{% elif field.name == "form" %} data-form{% endif %}>{% for value, text in field.field.choices %}<option value="{{ value }}"{% if field.value|stringformat:"s" == value|stringformat:"s" %} selected{% endif %}>{{ text }}</option>{% endfor %}</select>
          {% else %}<input type="number" name="{{ field.html_name }}" id="{{ field.id_for_label }}" value="{{ field.value|default_if_none:'' }}" class="form-control form-control-sm gs-number{% if field.errors %} is-invalid{% endif %}" step="{% if field.name == 'injections' %}1{% else %}0.01{% endif %}" min="{% if field.name == 'injections' %}1{% else %}0.01{% endif %}"{% if field.name == "volume_ml" %} data-volume{% endif %}>{% endif %}
          {% if field.errors %}<div class="invalid-feedback">{{ field.errors|join:" " }}</div>{% endif %}
        </td>
        {% endfor %}
      </tr>
    {% endfor %}"""  # noqa: E501 - the template's lines, as they were

KEYS = [key for key, _label in regions.CHOICES]


def normalised(html: str) -> str:
    html = re.sub(r"\s+", " ", html)
    html = re.sub(r"\s*>\s*", ">", html)
    return re.sub(r"\s*<", "<", html).strip()


def checked(data: dict | None) -> ChartForms:
    """The chart's forms, posted `data` (none: a new chart), checked as the view checks them."""
    query = None
    if data is not None:
        query = QueryDict(mutable=True)
        for name, value in data.items():
            query.setlist(name, value if isinstance(value, list) else [value])
    forms = ChartForms(query, clinic=selectors.get_clinic_settings())
    forms.is_valid()
    return forms


def both(data: dict | None) -> tuple[str, str]:
    """The rows as the reference template writes them and as chart_rows does."""
    forms = checked(data)
    reference = engines["django"].from_string(REFERENCE).render({"forms": forms})
    return normalised(reference), normalised(chart_rows.write(forms.rows()))


def test_a_new_chart_has_the_same_rows():
    reference, written = both(None)
    assert written == reference
    assert written.count("<tr ") == len(KEYS) and written.count(" hidden>") == len(KEYS)


def test_areas_chosen_and_typed_well_have_the_same_rows():
    data = chart_data([KEYS[0], KEYS[5], KEYS[-1]])
    data[f"area-{KEYS[5]}-form"] = "foam"
    data[f"area-{KEYS[5]}-agent"] = "sts"
    data[f"area-{KEYS[5]}-vessel_type"] = "reticular"
    reference, written = both(data)
    assert written == reference
    assert written.count(" hidden>") == len(KEYS) - 3
    assert '<option value="foam" selected>' in written


@pytest.mark.parametrize(
    "changes",
    [
        {"concentration": "abc", "volume_ml": "-1", "injections": "2.5"},
        {"volume_ml": "999", "injections": "0", "concentration": ""},
        {"agent": "bleach", "form": "gas", "vessel_type": ""},
        {"agent": "polidocanol", "concentration": "71"},  # past the agent's strongest
        {"concentration": '"><script>alert(1)</script>', "volume_ml": "1e400"},
    ],
)
def test_mistakes_have_the_same_rows_and_marks(changes):
    key = KEYS[3]
    data = chart_data([key, KEYS[4]], **{f"area-{key}-{f}": v for f, v in changes.items()})
    reference, written = both(data)
    assert written == reference
    assert "is-invalid" in written or "text-danger" in written
    assert "<script>" not in written


def test_numbers_are_written_with_a_point_in_spanish():
    with translation.override("es"):
        _reference, written = both(None)
    assert 'value="0.5"' in written and 'value="0,5"' not in written
    assert "Rodilla" in written or "rodilla" in written  # the page is in Spanish


BOXES = """{% for box in field %}
    <div class="form-check">{{ box.tag }}<label class="form-check-label" for="{{ box.id_for_label }}">{{ box.choice_label }}</label></div>
  {% endfor %}"""  # noqa: E501 - _area_checkboxes.html's loop, as it was


@pytest.mark.parametrize(
    "regions_given",
    [None, [], [KEYS[0], KEYS[7], KEYS[-1]], [KEYS[2], "nowhere", '"><b>x</b>']],
)
def test_the_area_list_has_the_same_checkboxes_as_djangos_widget(regions_given):
    data = None if regions_given is None else chart_data(regions_given)
    field = checked(data).main["regions"]
    engine = engines["django"]
    reference = engine.from_string(BOXES).render({"field": field})
    written = engine.from_string("{% load legs %}{% area_boxes field %}").render({"field": field})
    assert normalised(written) == normalised(reference)
    assert normalised(written).count("<input ") == len(KEYS)
    assert normalised(written).count(" checked>") == len(
        [key for key in (regions_given or []) if key in KEYS]
    )
