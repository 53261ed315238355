"""The reports: what each counts, its table (a row per week, or per kind) and its chart. Every
number comes from `queries`; the page, the chart and the CSV file are drawn from one Report,
so they always agree."""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils.formats import number_format
from django.utils.functional import Promise
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from goodskin import when
from treatments.models import AdverseEventType

from . import queries
from .charts import Series, kind_chart, week_chart
from .period import Period

COUNT, PERCENT = "count", "percent"


@dataclass(frozen=True)
class Column:
    label: str
    kind: str = COUNT


def display(value) -> str:
    """A number as the page shows it, in the reader's language; a dash for no share."""
    if value is None:
        return "\u2013"
    if isinstance(value, float):
        return number_format(value, 1)
    return number_format(value)


@dataclass(frozen=True)
class Row:
    label: str  # for people: a week's Monday through goodskin.when, a kind's name
    key: str  # the CSV file's first column: the Monday in ISO (as machines read dates), a kind
    values: list

    @property
    def cells(self) -> list[str]:
        return [display(value) for value in self.values]


@dataclass
class Report:
    slug: str
    title: str
    description: str
    first_column: str
    columns: list[Column]
    rows: list[Row]
    total: Row
    chart: SafeString
    legend: list[tuple[str, int]] = field(default_factory=list)  # (label, tone) per series
    note: str = ""


@dataclass(frozen=True)
class Definition:
    slug: str
    title: str | Promise
    summary: str | Promise
    build: Callable[[Period], Report]


def share(part: int, whole: int, per: int = 100) -> float | None:
    """part per `per` of whole, one decimal; None when there is no whole to share."""
    return round(part * per / whole, 1) if whole else None


def _weekly(
    period: Period,
    *,
    slug: str,
    title: str,
    description: str,
    counts: queries.Weekly,
    columns: list[tuple[str, str]],
    rates: list[tuple[str, str, str, int]] = (),
    chart: list[tuple[str, bool, int]],
    unit: str,
    note: str = "",
) -> Report:
    """A report of a row per week: `columns` are (count name, label); `rates` are (label,
    part, whole, position) percentages inserted at a position; `chart` the counts drawn
    (name, stacked on the one before, tone)."""
    weeks = period.weeks
    names = [name for name, _label in columns]
    table = [[counts[week][name] if week in counts else 0 for name in names] for week in weeks]
    totals = [sum(row[n] for row in table) for n in range(len(names))]

    def with_rates(values: list[int]) -> list:
        by_name = dict(zip(names, values, strict=True))
        out = list(values)
        for _label, part, whole, position in sorted(rates, key=lambda r: r[3]):
            out.insert(position, share(by_name[part], by_name[whole]))
        return out

    cols = [Column(label) for _name, label in columns]
    for label, _part, _whole, position in sorted(rates, key=lambda r: r[3]):
        cols.insert(position, Column(label, PERCENT))
    rows = [
        Row(when.birthday(week), week.isoformat(), with_rates(values))
        for week, values in zip(weeks, table, strict=True)
    ]
    series = [
        Series(label, [values[names.index(name)] for values in table], stacked, tone)
        for (name, stacked, tone) in chart
        for label in [dict(columns)[name]]
    ]
    return Report(
        slug=slug,
        title=title,
        description=description,
        first_column=_("Week starting"),
        columns=cols,
        rows=rows,
        total=Row(_("Whole period"), "total", with_rates(totals)),
        chart=week_chart(
            chart_id=f"chart-{slug}",
            title=title,
            description=description,
            weeks=weeks,
            series=series,
            unit=unit,
        ),
        legend=[(s.label, s.tone) for s in series],
        note=note,
    )


def sessions(period: Period) -> Report:
    counts = queries.sessions(period)
    for week in counts.values():
        week["total"] = week["sessions"] + week["touch_ups"]
    return _weekly(
        period,
        slug="sessions",
        title=_("Sessions per week"),
        description=_("Sclerotherapy sessions and touch-up sessions that took place, by week."),
        counts=counts,
        columns=[("sessions", _("Sessions")), ("touch_ups", _("Touch-ups")), ("total", _("Total"))],
        chart=[("sessions", False, 0), ("touch_ups", True, 1)],
        unit=_("Sessions"),
    )


def new_patients(period: Period) -> Report:
    return _weekly(
        period,
        slug="new-patients",
        title=_("New patients"),
        description=_("Patients at their first consultation that took place, by week."),
        counts=queries.new_patients(period),
        columns=[("new_patients", _("New patients"))],
        chart=[("new_patients", False, 1)],
        unit=_("Patients"),
    )


def consultations(period: Period) -> Report:
    return _weekly(
        period,
        slug="consultations",
        title=_("Consultations that became plans"),
        description=_(
            "Consultations held each week, and how many of them led to a treatment plan."
        ),
        counts=queries.consultations(period),
        columns=[("consultations", _("Consultations")), ("plans", _("Became plans"))],
        rates=[(_("Became plans (%)"), "plans", "consultations", 2)],
        chart=[("consultations", False, 0), ("plans", False, 1)],
        unit=_("Consultations"),
        note=_(
            "A consultation counts at an office when its patient had a consultation visit "
            "there that day."
        ),
    )


def plans(period: Period) -> Report:
    counts = queries.plans_ended(period)
    for week in counts.values():
        week["ended"] = week["completed"] + week["stopped"]
    return _weekly(
        period,
        slug="plans",
        title=_("Plan completion"),
        description=_(
            "Treatment plans that ended each week: completed, or stopped before the end."
        ),
        counts=counts,
        columns=[
            ("completed", pgettext("plans", "Completed")),
            ("stopped", pgettext("plans", "Stopped")),
            ("ended", pgettext("plans", "Ended")),
        ],
        rates=[(_("Completed (%)"), "completed", "ended", 3)],
        chart=[("completed", False, 1), ("stopped", True, 2)],
        unit=_("Plans"),
        note=_("A plan counts at every office where one of its sessions took place."),
    )


def attendance(period: Period) -> Report:
    return _weekly(
        period,
        slug="attendance",
        title=_("No-shows and late cancellations"),
        description=_(
            "Visits due each week until now (all but those cancelled in good time), the "
            "patients who did not come and the late cancellations."
        ),
        counts=queries.attendance(period),
        columns=[
            ("due", _("Visits due")),
            ("no_shows", _("No-shows")),
            ("late_cancels", _("Late cancellations")),
        ],
        rates=[
            (_("No-shows (%)"), "no_shows", "due", 2),
            (_("Late cancellations (%)"), "late_cancels", "due", 4),
        ],
        chart=[("due", False, 0), ("no_shows", False, 1), ("late_cancels", True, 2)],
        unit=_("Visits"),
    )


def waitlist(period: Period) -> Report:
    return _weekly(
        period,
        slug="waitlist",
        title=_("Waitlist fills"),
        description=_(
            "Times freed each week (cancelled, moved, time off lifted) and those a patient on "
            "the waitlist took; the offers sent and accepted."
        ),
        counts=queries.waitlist(period),
        columns=[
            ("freed", _("Times freed")),
            ("filled", _("Filled from the waitlist")),
            ("offers", _("Offers sent")),
            ("accepted", _("Offers accepted")),
        ],
        rates=[(_("Filled (%)"), "filled", "freed", 2)],
        chart=[("freed", False, 0), ("filled", False, 1)],
        unit=_("Freed times"),
    )


def messages(period: Period) -> Report:
    narrowed = period.office is not None or period.doctor is not None
    counts = queries.messages(period)
    for week in counts.values():
        week["due"] = week["sent"] + week["failed"]
    return _weekly(
        period,
        slug="messages",
        title=_("Messages sent and failed"),
        description=_(
            "Messages that fell due each week and were sent, or could not reach their person."
        ),
        counts=counts,
        columns=[("due", _("Messages")), ("sent", _("Sent")), ("failed", _("Failed"))],
        rates=[(_("Failed (%)"), "failed", "due", 3)],
        chart=[("sent", False, 0), ("failed", True, 2)],
        unit=_("Messages"),
        note=_("With an office or a doctor chosen, only the messages about an appointment count.")
        if narrowed
        else "",
    )


def adverse_events(period: Period) -> Report:
    by_kind, done = queries.adverse_events(period)
    kinds = list(AdverseEventType)
    title = _("Adverse events per 100 sessions")
    description = _(
        "Adverse events that began in the period, by kind, per 100 sessions done in it."
    )
    rows = [
        Row(
            str(kind.label),
            str(kind.label),
            [by_kind.get(kind.value, 0), share(by_kind.get(kind.value, 0), done)],
        )
        for kind in kinds
    ]
    events = sum(by_kind.values())
    return Report(
        slug="adverse-events",
        title=title,
        description=description,
        first_column=_("Kind"),
        columns=[Column(_("Events")), Column(_("Per 100 sessions"), PERCENT)],
        rows=rows,
        total=Row(_("All kinds"), "total", [events, share(events, done)]),
        chart=kind_chart(
            chart_id="chart-adverse-events",
            title=title,
            description=description,
            labels=[row.label for row in rows],
            values=[row.values[1] or 0 for row in rows],
            unit=_("Events per 100 sessions"),
        ),
        note=_(
            "Sessions and touch-ups done in the period: %(n)d. An event counts at the office "
            "and with the doctor of the plan's last session before it began."
        )
        % {"n": done},
    )


REPORTS = {
    d.slug: d
    for d in (
        Definition(
            "sessions",
            gettext_lazy("Sessions per week"),
            gettext_lazy("Sessions and touch-ups done."),
            sessions,
        ),
        Definition(
            "new-patients",
            gettext_lazy("New patients"),
            gettext_lazy("Patients at their first consultation."),
            new_patients,
        ),
        Definition(
            "consultations",
            gettext_lazy("Consultations that became plans"),
            gettext_lazy("Consultations and the plans made at them."),
            consultations,
        ),
        Definition(
            "plans",
            gettext_lazy("Plan completion"),
            gettext_lazy("Plans completed or stopped."),
            plans,
        ),
        Definition(
            "attendance",
            gettext_lazy("No-shows and late cancellations"),
            gettext_lazy("Visits missed or cancelled late."),
            attendance,
        ),
        Definition(
            "waitlist",
            gettext_lazy("Waitlist fills"),
            gettext_lazy("Freed times taken from the waitlist."),
            waitlist,
        ),
        Definition(
            "adverse-events",
            gettext_lazy("Adverse events per 100 sessions"),
            gettext_lazy("Adverse events by kind."),
            adverse_events,
        ),
        Definition(
            "messages",
            gettext_lazy("Messages sent and failed"),
            gettext_lazy("Reminders, aftercare and other messages."),
            messages,
        ),
    )
}
