"""{% leg_diagram %}: the leg diagram (treatments/_leg_diagram.html), written once per process
for each picture: the same shapes, counts, planned areas and language give the same 34 KB of
SVG, which took 5 ms to write on every plan, chart and portal page that shows it."""

from django import template
from django.template.loader import render_to_string
from django.utils import translation

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
