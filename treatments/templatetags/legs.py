"""{% area_boxes %}: the area list's checkboxes, written without the widget templates.

{% leg_diagram %}: the leg diagram (treatments/_leg_diagram.html), written once per process
for each picture: the same shapes, counts, planned areas and language give the same 34 KB of
SVG, which took 5 ms to write on every plan, chart and portal page that shows it."""

from django import template
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

# Pictures written, by everything that goes into them; emptied when it grows past this many
# (a clinic's plans give a few hundred different pictures).
KEPT = 512
_written: dict[tuple, str] = {}


@register.simple_tag
def leg_diagram(diagram, *, interactive=False, show_counts=False, field_name="regions"):
    key = (
        translation.get_language(),
        bool(interactive),
        bool(show_counts),
        field_name,
        tuple(
            (
                view.name,
                view.title,
                view.width,
                view.height,
                tuple(view.decor),
                tuple(view.silhouettes),
                tuple(view.leg_labels),
                tuple(
                    (s.key, s.label, s.d, s.cx, s.cy, s.count, s.selected, s.planned)
                    for s in view.shapes
                ),
            )
            for view in diagram
        ),
    )
    written = _written.get(key)
    if written is None:
        if len(_written) >= KEPT:
            _written.clear()
        context = {
            "diagram": diagram,
            "interactive": interactive,
            "show_counts": show_counts,
            "field_name": field_name,
        }
        written = _written[key] = render_to_string("treatments/_leg_diagram.html", context)
    return written


@register.simple_tag
def area_boxes(field) -> SafeString:
    """The area list's checkboxes (_area_checkboxes.html): each `<input>` as Django's widget
    template writes it (django/forms/widgets/input.html), from the widget's own options, and
    its label. Thirty boxes through the widget templates took 5 ms of the chart form."""
    written = []
    for box in field.subwidgets:
        data = box.data
        attrs = "".join(
            f" {escape(name)}" if value is True else f' {escape(name)}="{escape(value)}"'
            for name, value in data["attrs"].items()
            if value is not False
        )
        value = "" if data["value"] is None else f' value="{escape(data["value"])}"'
        written.append(
            f'<div class="form-check"><input type="{escape(data["type"])}"'
            f' name="{escape(data["name"])}"{value}{attrs}><label class="form-check-label"'
            f' for="{escape(box.id_for_label)}">{escape(box.choice_label)}</label></div>'
        )
    return mark_safe("\n".join(written))
