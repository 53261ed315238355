"""The chart form's rows, one per area of the legs (templates/treatments/chart_form.html), written
here rather than in the template: thirty rows of six fields, with a menu of choices in three of
them, took 24 of the page's 60 ms and 84 of its 136 KB through the template engine (the same
HTML, tests/treatments/test_chart_rows.py).

A number is written as HTML wants it in an input of type number, with a point whatever the
language ("0.5", not the "0,5" of the Spanish page, which the browser would not show)."""

from decimal import Decimal

from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

# What each field's input carries besides its value (the page's script looks for these).
_SELECT_MARK = {"agent": " data-agent", "form": " data-form"}
_NUMBER_MARK = {"volume_ml": " data-volume"}


def write(rows) -> SafeString:
    """The <tr> of each (area form, shown) of ChartForms.rows()."""
    # Written once a page: each field's label (by its name), each menu (_menu).
    menus: dict = {}
    return mark_safe("".join(_row(area, shown, menus) for area, shown in rows))


def _row(area, shown: bool, menus: dict) -> str:
    label = conditional_escape(area.region_label)
    problems = area.non_field_errors()
    said = f'<div class="text-danger small">{_joined(problems)}</div>' if problems else ""
    cells = "".join(_cell(label, field, menus) for field in area)
    hidden = " hidden" if not shown else ""
    return (
        f'<tr data-area-row="{conditional_escape(area.region)}"{hidden}>'
        f'<th scope="row" class="fw-normal">{label}{said}</th>{cells}</tr>'
    )


def _cell(area_label: str, field, menus: dict) -> str:
    name, html_name = field.name, conditional_escape(field.html_name)
    given = conditional_escape(field.id_for_label)
    errors = field.errors
    invalid = " is-invalid" if errors else ""
    value = field.value()
    if field.field.widget.input_type == "select":
        chosen = str(value)
        options = "".join(
            f'<option value="{option}"{" selected" if plain == chosen else ""}>{text}</option>'
            for plain, option, text in _menu(field, menus)
        )
        control = (
            f'<select name="{html_name}" id="{given}" class="form-select form-select-sm'
            f' gs-chart-select gs-chart-{name}{invalid}"{_SELECT_MARK.get(name, "")}>'
            f"{options}</select>"
        )
    else:
        step = "1" if name == "injections" else "0.01"
        control = (
            f'<input type="number" name="{html_name}" id="{given}"'
            f' value="{conditional_escape(_number(value))}"'
            f' class="form-control form-control-sm gs-number{invalid}"'
            f' step="{step}" min="{step}"{_NUMBER_MARK.get(name, "")}>'
        )
    said = f'<div class="invalid-feedback">{_joined(errors)}</div>' if errors else ""
    label = menus.get(name) or menus.setdefault(name, conditional_escape(field.label))
    return (
        f'<td><label class="visually-hidden" for="{given}">{area_label}:'
        f" {label}</label>{control}{said}</td>"
    )


def _menu(field, menus: dict) -> list[tuple[str, str, str]]:
    """(value, value escaped, text escaped) of each choice of a menu: the thirty rows' menus
    are the same but for an agent no longer in use kept in one of them (AreaForm.keep_agent),
    so each is written once a page, by its field and its values (a text is translated each
    time it is written)."""
    choices = field.field.choices
    key = (field.name, tuple(str(option) for option, _text in choices))
    if key not in menus:
        menus[key] = [
            (str(option), conditional_escape(option), conditional_escape(text))
            for option, text in choices
        ]
    return menus[key]


def _number(value) -> str:
    """An initial number as the input reads it; what was typed, as it was typed."""
    if value is None:
        return ""
    if isinstance(value, Decimal | int | float):
        return str(value)
    return value


def _joined(errors) -> str:
    return " ".join(str(conditional_escape(error)) for error in errors)
