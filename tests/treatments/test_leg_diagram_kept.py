"""{% leg_diagram %} writes the same SVG as the template it keeps, once per picture and
language (treatments.templatetags.legs)."""

import pytest
from django.template import Context, Template
from django.utils import translation

from treatments import diagram, regions
from treatments.templatetags import legs

KEYS = [r.key for r in regions.REGIONS]
INCLUDED = Template(
    '{% include "treatments/_leg_diagram.html" with interactive=i show_counts=c field_name=f %}'
)
KEPT = Template("{% load legs %}{% leg_diagram diagram interactive=i show_counts=c field_name=f %}")
PICTURES = [
    {},
    {"selected": KEYS[:3], "planned": KEYS[2:6]},
    {"counts": {k: n % 7 for n, k in enumerate(KEYS)}, "planned": KEYS[:9]},
]


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("picture", range(len(PICTURES)))
@pytest.mark.parametrize("interactive, show_counts", [(True, False), (False, True), (False, False)])
def test_the_kept_picture_is_the_templates_own(language, picture, interactive, show_counts):
    with translation.override(language):
        drawn = diagram.build(**PICTURES[picture])
        context = {"diagram": drawn, "i": interactive, "c": show_counts, "f": "areas"}
        expected = INCLUDED.render(Context(context))
        assert KEPT.render(Context(context)) == expected
        assert KEPT.render(Context(context)) == expected  # kept, the same again


def test_a_picture_is_written_once_per_language(monkeypatch):
    written = []
    real = legs.render_to_string
    monkeypatch.setattr(legs, "_written", {})
    monkeypatch.setattr(legs, "render_to_string", lambda *a: written.append(a) or real(*a))
    context = Context({"diagram": diagram.build(counts={KEYS[0]: 2}), "i": False, "c": True})
    for language in ("en", "en", "es", "es"):
        with translation.override(language):
            KEPT.render(context)
    assert len(written) == 2
    other = Context({"diagram": diagram.build(counts={KEYS[0]: 3}), "i": False, "c": True})
    KEPT.render(other)
    assert len(written) == 3
