"""The treated areas of the legs (../shared/domain/CLINICAL.md): the one list every form, chart
and picture uses. Keys are stable data ("L-thigh-anterior"): they are stored in plans and charts.
"""

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

LEGS = (("R", _("Right")), ("L", _("Left")))
FRONT, BACK = "front", "back"

# (part key, label, view it is drawn on). Medial and lateral areas are drawn on the front view,
# where they sit either side of the anterior strip; the back view holds what only shows there.
PARTS: tuple[tuple[str, Promise, str], ...] = (
    ("thigh-anterior", _("anterior thigh"), FRONT),
    ("thigh-medial", _("medial (inner) thigh"), FRONT),
    ("thigh-lateral", _("lateral (outer) thigh"), FRONT),
    ("thigh-posterior", _("posterior thigh (back)"), BACK),
    ("knee-anterior", _("anterior knee"), FRONT),
    ("knee-medial", _("medial (inner) knee"), FRONT),
    ("knee-lateral", _("lateral (outer) knee"), FRONT),
    ("knee-popliteal", _("popliteal fossa (back of knee)"), BACK),
    ("calf-anterior", _("anterior calf (shin)"), FRONT),
    ("calf-medial", _("medial (inner) calf"), FRONT),
    ("calf-lateral", _("lateral (outer) calf"), FRONT),
    ("calf-posterior", _("posterior calf (back)"), BACK),
    ("ankle-medial", _("medial (inner) ankle"), FRONT),
    ("ankle-lateral", _("lateral (outer) ankle"), FRONT),
    ("foot", _("foot"), FRONT),
)


@dataclass(frozen=True)
class Region:
    key: str
    leg: str
    part: str
    label: str | Promise
    view: str

    @property
    def short_label(self) -> str | Promise:
        return dict(PARTS_LABELS)[self.part]


PARTS_LABELS = tuple((part, label) for part, label, _view in PARTS)


def _label(leg_label: Promise, part_label: Promise) -> Promise:
    from django.utils.text import format_lazy

    # Translators: a treated area's name, "Right anterior thigh"; a language puts the side
    # where it goes.
    return format_lazy(_("{side} {part}"), side=leg_label, part=part_label)


REGIONS: tuple[Region, ...] = tuple(
    Region(f"{leg}-{part}", leg, part, _label(leg_label, label), view)
    for leg, leg_label in LEGS
    for part, label, view in PARTS
)
BY_KEY: dict[str, Region] = {r.key: r for r in REGIONS}
CHOICES = [(r.key, r.label) for r in REGIONS]


def is_region(key: str) -> bool:
    return key in BY_KEY


def label(key: str) -> str:
    region = BY_KEY.get(key)
    return str(region.label) if region else key
