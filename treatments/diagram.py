"""The leg diagram: shapes for every region of regions.py, front and back of both legs, drawn by
templates/treatments/_leg_diagram.html. Geometry lives here so the picture and the region list
can't disagree: every region is one shape, and the tests check that."""

from dataclasses import dataclass, field
from functools import cache

from django.utils.translation import gettext_lazy as _

from . import regions

# Half-widths of a leg (outer side, inner side) at heights from the hip (0) to the ankle (380),
# in SVG units; read off an adult leg, a little stylised.
OUTER = ((0, 50), (40, 48), (100, 40), (150, 31), (185, 25), (205, 24), (230, 27), (255, 31),
         (280, 30), (315, 21), (345, 14), (380, 14))  # fmt: skip
INNER = ((0, 40), (40, 37), (100, 31), (150, 25), (185, 20), (205, 19), (230, 23), (250, 27),
         (275, 25), (315, 17), (345, 11), (380, 11))  # fmt: skip
# Knees sit a little closer together than hips.
INWARD = ((0, 0), (200, 9), (380, 7))
BANDS = {
    "thigh": (0, 178),
    "knee": (178, 228),
    "calf": (228, 340),
    "ankle": (340, 380),
}
# Front strips across the leg, outer side first (fractions of the width).
FRONT_STRIPS = {"lateral": (0.0, 0.27), "anterior": (0.27, 0.73), "medial": (0.73, 1.0)}
ANKLE_STRIPS = {"lateral": (0.0, 0.5), "medial": (0.5, 1.0)}
VIEW_WIDTH, VIEW_HEIGHT, TOP = 300, 510, 78
STEP = 6
# Fill per number of treatments on the progress picture; the last colour is "this many or more".
SHADES = ("#f6e3d6", "#b9e2dd", "#7cc6bf", "#3c9d96", "#1f6f78", "#154f55")


def _at(points, y: float) -> float:
    for (y0, v0), (y1, v1) in zip(points, points[1:], strict=False):
        if y0 <= y <= y1:
            return v0 + (v1 - v0) * (y - y0) / (y1 - y0)
    return points[-1][1]


@dataclass
class Leg:
    """One leg on the page: its centre at the hip and which side (on screen) is its outer side."""

    centre: float
    outer_left: bool

    def edges(self, y: float) -> tuple[float, float]:
        """Screen-left and screen-right x of the leg at height y."""
        shift = _at(INWARD, y) * (1 if self.outer_left else -1)
        centre = self.centre + shift
        outer, inner = _at(OUTER, y), _at(INNER, y)
        return (
            (centre - outer, centre + inner)
            if self.outer_left
            else (centre - inner, centre + outer)
        )

    def x(self, y: float, fraction: float) -> float:
        """x at `fraction` of the width from the outer side."""
        left, right = self.edges(y)
        if not self.outer_left:
            fraction = 1 - fraction
        return left + (right - left) * fraction

    def strip(self, y0: float, y1: float, f0: float, f1: float) -> str:
        ys = _heights(y0, y1)
        side_a = [(self.x(y, f0), y) for y in ys]
        side_b = [(self.x(y, f1), y) for y in reversed(ys)]
        return _path(side_a + side_b)

    def outline(self, bottom: float) -> str:
        ys = _heights(0, bottom)
        left = [(self.edges(y)[0], y) for y in ys]
        right = [(self.edges(y)[1], y) for y in reversed(ys)]
        return _path(left + right)

    def foot(self) -> str:
        """The foot seen from the front: from the ankle out to the toes, turned a little out."""
        left, right = self.edges(380)
        turn = -4 if self.outer_left else 4
        return (
            f"M{left:.1f},{TOP + 380} L{right:.1f},{TOP + 380} "
            f"C{right + 6:.1f},{TOP + 398} {right + 10 + turn:.1f},{TOP + 418} "
            f"{right + 4 + turn:.1f},{TOP + 428} "
            f"L{left - 4 + turn:.1f},{TOP + 428} "
            f"C{left - 10 + turn:.1f},{TOP + 418} {left - 6:.1f},{TOP + 398} "
            f"{left:.1f},{TOP + 380} Z"
        )

    def heel(self) -> str:
        left, right = self.edges(380)
        mid = (left + right) / 2
        return (
            f"M{left:.1f},{TOP + 340} L{right:.1f},{TOP + 340} L{right:.1f},{TOP + 384} "
            f"Q{mid:.1f},{TOP + 402} {left:.1f},{TOP + 384} Z"
        )


def _heights(y0: float, y1: float) -> list[float]:
    ys = [float(y) for y in range(int(y0), int(y1), STEP)]
    return [*ys, float(y1)]


def _path(points: list[tuple[float, float]]) -> str:
    head, *rest = points
    return (
        f"M{head[0]:.1f},{head[1] + TOP:.1f} "
        + " ".join(f"L{x:.1f},{y + TOP:.1f}" for x, y in rest)
        + " Z"
    )


@dataclass
class Shape:
    key: str
    label: str
    d: str
    cx: float
    cy: float
    count: int = 0
    selected: bool = False
    planned: bool = False

    @property
    def fill(self) -> str:
        return SHADES[min(self.count, len(SHADES) - 1)]

    @property
    def dark(self) -> bool:
        return self.count >= 3


@dataclass
class View:
    name: str
    title: str
    shapes: list[Shape] = field(default_factory=list)
    silhouettes: list[str] = field(default_factory=list)
    decor: list[str] = field(default_factory=list)
    leg_labels: list[tuple[float, str]] = field(default_factory=list)
    width: int = VIEW_WIDTH
    height: int = VIEW_HEIGHT


def _legs(view: str) -> list[tuple[str, Leg]]:
    """Legs left to right on screen. From the front the patient's right leg is on our left."""
    first, second = ("R", "L") if view == regions.FRONT else ("L", "R")
    return [(first, Leg(centre=100, outer_left=True)), (second, Leg(centre=200, outer_left=False))]


def _front_shape(leg: Leg, part: str) -> tuple[str, float, float]:
    band, _sep, side = part.partition("-")
    if part == "foot":
        left, right = leg.edges(380)
        return leg.foot(), (left + right) / 2, TOP + 405
    y0, y1 = BANDS[band]
    f0, f1 = (ANKLE_STRIPS if band == "ankle" else FRONT_STRIPS)[side]
    mid = (y0 + y1) / 2
    return leg.strip(y0, y1, f0, f1), leg.x(mid, (f0 + f1) / 2), mid + TOP


def _back_shape(leg: Leg, part: str) -> tuple[str, float, float]:
    band = part.partition("-")[0]
    y0, y1 = BANDS[band]
    mid = (y0 + y1) / 2
    return leg.strip(y0, y1, 0, 1), leg.x(mid, 0.5), mid + TOP


@dataclass(frozen=True)
class _Outline:
    """What of a view never changes: the legs' outlines and where each region's shape lies."""

    name: str
    silhouettes: tuple[str, ...]
    decor: tuple[str, ...]
    leg_labels: tuple[tuple[float, str], ...]  # (x, leg key)
    shapes: tuple[tuple[regions.Region, str, float, float], ...]  # (region, d, cx, cy)


@cache
def _outlines() -> tuple[_Outline, ...]:
    """Both views' geometry, worked out once per process: it was two thirds of the time of a
    page with a picture (the portal's schedule), for the same numbers every time."""
    outlines = []
    for view_name in (regions.FRONT, regions.BACK):
        silhouettes, decor, leg_labels, shapes = [], [], [], []
        for leg_key, leg in _legs(view_name):
            left, right = leg.edges(0)
            leg_labels.append(((left + right) / 2, leg_key))
            bottom = 380 if view_name == regions.FRONT else 340
            silhouettes.append(leg.outline(bottom))
            if view_name == regions.BACK:
                decor.append(leg.heel())
            else:
                silhouettes.append(leg.foot())
            for region in regions.REGIONS:
                if region.leg != leg_key or region.view != view_name:
                    continue
                make = _front_shape if view_name == regions.FRONT else _back_shape
                d, cx, cy = make(leg, region.part)
                shapes.append((region, d, round(cx, 1), round(cy, 1)))
        decor.insert(0, _hips())
        outlines.append(
            _Outline(view_name, tuple(silhouettes), tuple(decor), tuple(leg_labels), tuple(shapes))
        )
    return tuple(outlines)


def build(*, selected=(), counts=None, planned=()) -> list[View]:
    """Both views with every region's shape; `selected` keys are pressed, `counts` shade them,
    `planned` ones get a dashed outline."""
    counts = counts or {}
    selected, planned = set(selected), set(planned)
    titles = {regions.FRONT: _("Front"), regions.BACK: _("Back")}
    legs = dict(regions.LEGS)
    return [
        View(
            name=outline.name,
            title=str(titles[outline.name]),
            shapes=[
                Shape(
                    key=region.key,
                    label=str(region.label),
                    d=d,
                    cx=cx,
                    cy=cy,
                    count=counts.get(region.key, 0),
                    selected=region.key in selected,
                    planned=region.key in planned,
                )
                for region, d, cx, cy in outline.shapes
            ],
            silhouettes=list(outline.silhouettes),
            decor=list(outline.decor),
            leg_labels=[(x, str(legs[leg_key])) for x, leg_key in outline.leg_labels],
        )
        for outline in _outlines()
    ]


def _hips() -> str:
    """The lower trunk above both legs, so the picture reads as a person."""
    return (
        f"M48,{TOP + 10} C46,{TOP - 14} 70,{TOP - 34} 150,{TOP - 36} "
        f"C230,{TOP - 34} 254,{TOP - 14} 252,{TOP + 10} Z"
    )


def legend() -> list[tuple[str, str]]:
    """(colour, words) for the progress picture."""
    words = [
        _("not treated"),
        _("1 session"),
        _("2 sessions"),
        _("3 sessions"),
        _("4 sessions"),
        _("5 or more"),
    ]
    return [(colour, str(text)) for colour, text in zip(SHADES, words, strict=True)]
