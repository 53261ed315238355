"""Reads the scheduling pages share: the day, the week, a doctor's own day, an appointment's
history and a dry run of a series. Each list is read in a fixed number of queries, however many
appointments the day holds."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.contrib.auth import get_user_model
from django.db.models import Count, Min, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from goodskin import when
from treatments.models import SessionChart, TreatmentPlan
from treatments.selectors import PlanProgress, latest_plan_progress, touch_up_plans

from . import change_notices, clock, gate, rules
from .models import (
    Appointment,
    CancelledBy,
    ChangeAction,
    ClosedDay,
    Kind,
    Location,
    Room,
    Status,
    WorkingHours,
)
from .services import TRANSITIONS, plan_office, scheduling_settings
from .services.common import CLOSED_OVERRIDE, session_days
from .slots import Calendar, doctors

# The buttons a card offers, in the order a visit goes.
STATUS_BUTTONS = (
    (Status.CHECKED_IN, gettext_lazy("Check in")),
    (Status.IN_PROGRESS, gettext_lazy("Start")),
    (Status.COMPLETED, gettext_lazy("Complete")),
    (Status.NO_SHOW, gettext_lazy("No-show")),
    (Status.BOOKED, gettext_lazy("Back to booked")),
)
# Buttons that undo or record a miss, shown quieter than the next step of a visit.
QUIET = {Status.NO_SHOW, Status.BOOKED}


def buttons_by_status() -> dict[str, list[tuple[str, str, str]]]:
    """For each status, the (status, label, button style) a visit in it may move to."""
    return {
        value: [
            (
                status.value,
                str(label),
                "btn-outline-secondary" if status in QUIET else "btn-outline-primary",
            )
            for status, label in STATUS_BUTTONS
            if value in TRANSITIONS[status]
        ]
        for value in Status.values
    }


def status_buttons(
    appointment: Appointment, today: date, tz, table: dict | None = None
) -> list[tuple[str, str, str]]:
    """The buttons of one appointment now (none before its day); `table` is
    buttons_by_status() when the caller has it for many appointments."""
    if appointment.starts_at.astimezone(tz).date() > today:
        return []
    return (table or buttons_by_status())[appointment.status]


def offices_in_use():
    return Location.objects.in_use()


def office_rows() -> list[Location]:
    """Every office for the administrators' list, in use first: with how many rooms in use,
    how many hours rows, and the words of the visits it offers, in three queries."""
    rows = list(
        Location.objects.annotate(room_count=Count("rooms", filter=Q(rooms__active=True))).order_by(
            "-active", "name", "pk"
        )
    )
    hours = dict(
        WorkingHours.objects.values("location_id")
        .annotate(n=Count("id"))
        .values_list("location_id", "n")
    )
    kinds = dict(Kind.choices)
    for row in rows:
        row.hours_count = hours.get(row.pk, 0)
        row.kind_labels = [str(kinds[k]) for k in row.kinds if k in kinds]
    return rows


def closures(first: date, last: date, location: Location | None = None) -> dict[date, list[str]]:
    """{day: what to say of each closure} for the days from `first` to `last` on which the
    clinic, or an office (`location`'s, when one is chosen), is closed: one query."""
    rows = ClosedDay.objects.filter(day__gte=first, day__lte=last).select_related("location")
    if location is not None:
        rows = rows.filter(Q(location=location) | Q(location__isnull=True))
    found: dict[date, list[str]] = defaultdict(list)
    for row in rows.order_by("day", "location__name", "pk"):
        if row.location is None:
            said = _("The clinic is closed")
        else:
            said = _("%(office)s is closed") % {"office": row.location.name}
        found[row.day].append(f"{said}: {row.reason}" if row.reason else said)
    return dict(found)


def charted_visit(chart, tz) -> Appointment | None:
    """The visit a session's or touch-up's chart records: that plan's session, or the
    patient's touch-up (booked without a plan), on the chart's day."""
    start, end = clock.day_bounds(chart.treated_on, tz)
    visits = Appointment.objects.filter(
        patient_id=chart.plan.patient_id, starts_at__gte=start, starts_at__lt=end
    ).exclude(status=Status.CANCELLED)
    if chart.is_touch_up:
        visits = visits.filter(kind=Kind.TOUCH_UP)
    else:
        visits = visits.filter(kind=Kind.SESSION, plan=chart.plan, session_number=chart.number)
    return visits.order_by("starts_at").first()


def office_id(value: str | None) -> int | None:
    """The id `?location=<id>` gives, None for anything but a number."""
    if not value or not (value.isascii() and value.isdigit()) or len(value) > 18:
        return None
    return int(value)


def office_from(value: str | None) -> Location | None:
    """The office in use that `?location=<id>` names; None (every office) for anything else."""
    pk = office_id(value)
    return None if pk is None else Location.objects.in_use().filter(pk=pk).first()


def _appointments(start: datetime, end: datetime):
    return (
        Appointment.objects.overlapping(start, end)
        .select_related("patient", "room", "plan")
        .order_by("starts_at", "id")
    )


@dataclass
class Card:
    """One appointment of the day or week view, every text worked out: the pages show a
    hundred or more of them, and the template engine is the slow part (bench/scheduling.py)."""

    pk: int
    status: str
    status_label: str
    late_cancel: bool
    starts: str  # "09:00", clinic time
    times: str  # "09:00–09:20"
    day: date  # the local day it starts
    url: str
    patient_url: str
    patient_name: str
    what: str  # "Sclerotherapy session 2/4"
    doctor_name: str
    room_name: str
    notes: str
    version: int
    status_url: str
    buttons: list  # (status, label, button style); none before the day
    doctor_id: int
    room_id: int
    # A treatment visit the eligibility gate stops (what stops it, named), or whose screening
    # is gone through again before the check-in (the re-screen page): day view only.
    blocked: str = ""
    rescreen_url: str = ""
    online: bool = False  # booked by a new patient on the public page


def url_maker(name: str):
    """reverse() of a URL taking one pk, for many pks at the cost of one call."""
    sentinel = "987654321"
    head, tail = reverse(name, args=[int(sentinel)]).split(sentinel)
    return lambda pk: f"{head}{pk}{tail}"


CARD_FIELDS = (
    "pk",
    "status",
    "late_cancel",
    "starts_at",
    "ends_at",
    "patient_id",
    "patient__legal_first_name",
    "patient__legal_last_name",
    "kind",
    "session_number",
    "plan__sessions_planned",
    "doctor_id",
    "doctor__first_name",
    "doctor__last_name",
    "doctor__username",
    "room_id",
    "room__name",
    "notes",
    "version",
    "plan_id",
    # Booked by a new patient on the public page (issue 15, point 1): the card says "Online".
    "booking_request__id",
)
# The buttons that start a visit: the gate decides them.
ARRIVING = {Status.CHECKED_IN, Status.IN_PROGRESS}


def cards(
    start: datetime,
    end: datetime,
    tz,
    *,
    with_cancelled: bool = True,
    location: Location | None = None,
) -> list[Card]:
    """The appointments overlapping [start, end) as cards, in time order: one query. Rows are
    read as values, not models (a fifth of the time for a hundred appointments), and labels,
    buttons and addresses are worked out once, not once per card. `location`: that office's
    only. The pages keep what they make of them (day_page, week_page)."""
    rows = calendar_rows(start, end, location=location, with_cancelled=with_cancelled)
    return _write_cards(rows, tz, timezone.localdate(timezone.now(), tz), False)[0]


def calendar_rows(start, end, *, location=None, with_cancelled: bool = True):
    """The appointments overlapping [start, end), at one office or all: what cards are read
    from, and what their fingerprint covers."""
    rows = Appointment.objects.overlapping(start, end)
    if location is not None:
        rows = rows.filter(location=location)
    if not with_cancelled:
        rows = rows.not_cancelled()
    return rows


def _write_cards(rows, tz, today, gated: bool) -> tuple[list[Card], list]:
    """The cards of `rows`, and the booked treatment visits among them for the gate."""
    kinds = {value: str(label) for value, label in Kind.choices}
    statuses = {value: str(label) for value, label in Status.choices}
    buttons = buttons_by_status()
    appointment_url = url_maker("scheduling:appointment")
    patient_url = url_maker("patients:detail")
    status_url = url_maker("scheduling:status")
    made, waiting = [], []
    for row in rows.order_by("starts_at", "id").values_list(*CARD_FIELDS, named=True):
        local_start = row.starts_at.astimezone(tz)
        what = kinds.get(row.kind, row.kind)
        if row.session_number:
            what = f"{what} {row.session_number}/{row.plan__sessions_planned}"
        doctor_name = f"{row.doctor__first_name} {row.doctor__last_name}".strip()
        made.append(
            Card(
                pk=row.pk,
                status=row.status,
                status_label=statuses.get(row.status, row.status),
                late_cancel=row.late_cancel,
                starts=when.time_of(local_start.time()),
                times=f"{when.time_of(local_start.time())}–"
                f"{when.time_of(row.ends_at.astimezone(tz).time())}",
                day=local_start.date(),
                url=appointment_url(row.pk),
                patient_url=patient_url(row.patient_id),
                patient_name=f"{row.patient__legal_first_name} {row.patient__legal_last_name}",
                what=what,
                doctor_name=doctor_name or row.doctor__username,
                room_name=row.room__name,
                notes=row.notes,
                version=row.version,
                status_url=status_url(row.pk),
                buttons=[] if local_start.date() > today else buttons[row.status],
                doctor_id=row.doctor_id,
                room_id=row.room_id,
                online=row.booking_request__id is not None,
            )
        )
        if gated and row.status == Status.BOOKED:
            waiting.append(gate.Visit(row.pk, row.kind, row.patient_id, row.plan_id))
    return made, waiting


def _gate_cards(made: list[Card], marks: dict) -> None:
    """Mark the cards the gate stops, and send their check-in through the re-screen."""
    rescreen_url = url_maker("scheduling:rescreen")
    for card in made:
        mark = marks.get(card.pk)
        if mark is None:
            continue
        if mark.blocked:
            card.blocked = mark.blocked
        elif mark.rescreen:
            card.rescreen_url = rescreen_url(card.pk)
        else:
            continue
        card.buttons = [b for b in card.buttons if b[0] not in ARRIVING]


@dataclass
class Column:
    title: str
    key: int
    appointments: list = field(default_factory=list)  # Card


def _doctors_at(location: Location | None, weekdays):
    """The doctors, or those with hours at `location` on one of `weekdays`."""
    people = doctors()
    if location is not None:
        people = people.filter(
            working_hours__location=location, working_hours__weekday__in=weekdays
        ).distinct()
    return people


def _room_columns(location: Location | None) -> dict[int, Column]:
    rooms = Room.objects.filter(active=True, location__active=True).select_related("location")
    if location is not None:
        rooms = rooms.filter(location=location)
    rooms = list(rooms.order_by("location__name", "name"))
    # Rooms of several offices are told apart by their office's name.
    many = len({room.location_id for room in rooms}) > 1
    return {r.pk: Column(str(r) if many else r.name, r.pk) for r in rooms}


def day_columns(
    day: date, tz, *, by_room: bool = False, location: Location | None = None
) -> tuple[list[Column], datetime | None]:
    """One column per doctor (or per room) with the day's appointments, at one office or
    all, the booked treatment visits marked with what the eligibility gate says of them: a
    fixed number of queries. And the instant the clock makes a screening old (the marks may
    change then; None for never). Written afresh: the day view keeps the page it makes of
    them (day_page)."""
    if by_room:
        columns = _room_columns(location)
    else:
        columns = {
            d.pk: Column(d.get_full_name() or d.username, d.pk)
            for d in _doctors_at(location, [day.weekday()])
        }
    rows = calendar_rows(*clock.day_bounds(day, tz), location=location)
    made, waiting = _write_cards(rows, tz, timezone.localdate(timezone.now(), tz), True)
    marks = gate.marks(waiting)
    _gate_cards(made, marks.by_visit)
    for card in made:
        key = card.room_id if by_room else card.doctor_id
        if key not in columns:  # a doctor who has left, a room taken out of use
            columns[key] = Column(card.room_name if by_room else card.doctor_name, key)
        columns[key].appointments.append(card)
    return list(columns.values()), marks.until


@dataclass
class WeekRow:
    day: date
    cells: list  # one list of cards per doctor, in the order of the doctors


def week_doctors(location: Location | None = None) -> list:
    """The week view's columns: the doctors, or those with hours at `location` that week."""
    return list(_doctors_at(location, range(7)))


def week_bounds(monday: date, tz) -> tuple[datetime, datetime]:
    return clock.day_bounds(monday, tz)[0], clock.day_bounds(monday + timedelta(days=6), tz)[1]


def week_grid(
    monday: date, tz, location: Location | None = None, *, people=None
) -> tuple[list, list[WeekRow]]:
    """The week's days × doctors (`people`, or week_doctors), cancelled appointments left
    out, at one office or all: two queries."""
    people = week_doctors(location) if people is None else people
    start, end = week_bounds(monday, tz)
    by_cell = defaultdict(list)
    for card in cards(start, end, tz, with_cancelled=False, location=location):
        by_cell[(card.day, card.doctor_id)].append(card)
    rows = []
    for offset in range(7):
        day = monday + timedelta(days=offset)
        rows.append(WeekRow(day, [by_cell[(day, d.pk)] for d in people]))
    return people, rows


@dataclass
class DayVisit:
    """One appointment of a doctor's own day, with the chart of its session (if there is one
    yet) and the status buttons it offers now."""

    appointment: Appointment
    chart: SessionChart | None
    buttons: list
    # A touch-up visit: the completed plan it follows, to chart it on (None otherwise).
    touch_up_plan: TreatmentPlan | None = None
    # A booked treatment visit the eligibility gate stops: what stops it, named, and the plan
    # whose page lets it go ahead.
    blocked: str = ""
    blocked_plan_id: int | None = None


def doctor_day(doctor, day: date, tz) -> list[DayVisit]:
    """A doctor's appointments of the day, each session with its chart if there is one, and
    what the eligibility gate says of the booked ones: a fixed number of queries."""
    start, end = clock.day_bounds(day, tz)
    appointments = list(_appointments(start, end).filter(doctor=doctor).not_cancelled())
    touch_ups = touch_up_plans(a.patient_id for a in appointments if a.kind == Kind.TOUCH_UP)
    plan_ids = {a.plan_id for a in appointments if a.plan_id}
    plan_ids |= {plan.pk for plan in touch_ups.values()}
    charts = {_chart_key(c): c for c in SessionChart.objects.filter(plan_id__in=plan_ids)}
    today, table = timezone.localdate(timezone.now(), tz), buttons_by_status()
    flags = gate.flags(
        [
            gate.Visit(a.pk, a.kind, a.patient_id, a.plan_id)
            for a in appointments
            if a.status == Status.BOOKED
        ]
    )
    visits = []
    for appointment in appointments:
        buttons = status_buttons(appointment, today, tz, table)
        flag = flags.get(appointment.pk)
        if flag is not None and (flag.blocked or flag.rescreen.needed):
            # As on the day view: no check-in past the gate, and the re-screen first.
            buttons = [b for b in buttons if b[0] not in ARRIVING]
        visits.append(
            DayVisit(
                appointment,
                charts.get(_visit_key(appointment, day, touch_ups)),
                buttons,
                touch_ups.get(appointment.patient_id)
                if appointment.kind == Kind.TOUCH_UP
                else None,
                blocked=flag.names if flag is not None and flag.blocked else "",
                blocked_plan_id=flag.plan.pk if flag is not None else None,
            )
        )
    return visits


# A session's chart is found by its number; a touch-up (which has none) by the plan and day.
def _chart_key(chart: SessionChart) -> tuple:
    if chart.is_touch_up:
        return (chart.plan_id, Kind.TOUCH_UP, chart.treated_on)
    return (chart.plan_id, Kind.SESSION, chart.number)


def _visit_key(appointment: Appointment, day: date, touch_ups: dict) -> tuple:
    if appointment.kind == Kind.TOUCH_UP:
        # Booking keeps no plan on a touch-up: it follows the patient's last completed plan.
        plan = touch_ups.get(appointment.patient_id)
        return (plan.pk if plan else None, Kind.TOUCH_UP, day)
    return (appointment.plan_id, Kind.SESSION, appointment.session_number)


@dataclass
class HistoryRow:
    at: datetime
    by: object
    action: str
    before: str
    after: str


def _describe(snapshot: dict, tz, people: dict, rooms: dict) -> str:
    if not snapshot:
        return ""
    starts = datetime.fromisoformat(snapshot["starts_at"]).astimezone(tz)
    doctor = people.get(snapshot.get("doctor"))
    room = rooms.get(snapshot.get("room"))
    status = Status(snapshot["status"]).label if snapshot.get("status") in Status.values else ""
    with timezone.override(tz):
        parts = [when.day_and_time(starts)]
    parts += [str(x) for x in (doctor and (doctor.get_full_name() or doctor), room and room.name)]
    parts.append(str(status))
    if snapshot.get(CLOSED_OVERRIDE):
        parts.append(str(gettext_lazy("although the clinic was closed")))
    return " · ".join(p for p in parts if p and p != "None")


def history(appointment: Appointment, tz) -> list[HistoryRow]:
    """Every change: who, when, from what to what, in words. Three queries."""
    changes = list(appointment.changes.select_related("by"))
    ids = {s.get("doctor") for c in changes for s in (c.before, c.after)}
    room_ids = {s.get("room") for c in changes for s in (c.before, c.after)}
    people = get_user_model().objects.in_bulk([i for i in ids if i])
    rooms = Room.objects.in_bulk([i for i in room_ids if i])
    rows = []
    for change in changes:
        action = change.action
        if action in ChangeAction.values:
            action = ChangeAction(action).label
        rows.append(
            HistoryRow(
                change.at,
                change.by,
                action,
                _describe(change.before, tz, people, rooms),
                _describe(change.after, tz, people, rooms),
            )
        )
    return rows


def plan_appointments(plan: TreatmentPlan):
    return plan.appointments.select_related("room", "doctor").order_by("starts_at")


def series_problems(
    plan: TreatmentPlan,
    starts: dict[int, datetime],
    *,
    open_anyway: bool = False,
    location: Location | None = None,
) -> dict[int, str]:
    """A dry run of booking the series at `location`: what the rules say of each proposed
    session, judged as book_series judges it, read only (the booking checks all of it again
    under a lock)."""
    if not starts:
        return {}
    location = location or plan_office(plan)
    tz = clock.zone(location.time_zone)
    length = timedelta(minutes=plan.session_minutes)
    starts = {number: clock.utc(starts_at) for number, starts_at in starts.items()}
    calendar = Calendar.load_windows(
        doctor_ids=[plan.doctor_id],
        location=location,
        windows=[(starts_at, starts_at + length) for starts_at in starts.values()],
        buffer=timedelta(minutes=scheduling_settings().buffer_minutes),
        patient_id=plan.patient_id,
    )
    verdicts = rules.series(
        calendar,
        patient=plan.patient,
        plan=plan,
        blockers=gate.session_blockers(plan, starts),
        booked=session_days(plan, tz),
        sessions=[(number, at, at + length) for number, at in starts.items()],
        doctor_id=plan.doctor_id,
        now=timezone.now(),
        open_anyway=open_anyway,
    )
    return {number: str(problem) for number, problem, _room in verdicts if problem}


def plan_blocker(plan: TreatmentPlan) -> str | None:
    """Why no session of this plan can be booked at all, if something stops it."""
    problem = rules.plan_blocker(plan, blockers=gate.plan_blockers(plan))
    return str(problem) if problem else None


# The patient's own pages (the portal app).


@dataclass
class LatestSession:
    """The patient's latest treatment session and the days left of its support-hose period."""

    appointment: Appointment
    day: date
    hose_days_left: int


def latest_session(patient) -> LatestSession | None:
    last = (
        Appointment.objects.filter(patient=patient, status=Status.COMPLETED, plan__isnull=False)
        .select_related("plan")
        .order_by("-starts_at")
        .first()
    )
    if last is None:
        return None
    tz = clock.zone(last.location.time_zone if last.location_id else None)
    day = last.starts_at.astimezone(tz).date()
    days_left = last.plan.hose_days - (timezone.localdate(timezone.now(), tz) - day).days
    return LatestSession(appointment=last, day=day, hose_days_left=max(0, days_left))


@dataclass
class PatientSchedule:
    upcoming: list[Appointment]  # booked, soonest first
    past: list[Appointment]  # any status, newest first, the last twenty
    progress: PlanProgress | None  # of the newest plan the patient may see
    latest: LatestSession | None
    notice_hours: int  # how long before a visit the patient may still change it online


def patient_schedule(patient) -> PatientSchedule:
    """What the patient's home page shows of their visits and their plan (the cancellations
    they may still undo are read apart, on every page: undoable_cancellations)."""
    now = timezone.now()
    appointments = Appointment.objects.filter(patient=patient).select_related("doctor", "location")
    return PatientSchedule(
        upcoming=list(
            appointments.filter(starts_at__gte=now, status=Status.BOOKED).order_by("starts_at")
        ),
        past=list(appointments.filter(starts_at__lt=now).order_by("-starts_at")[:20]),
        progress=latest_plan_progress(patient),
        latest=latest_session(patient),
        notice_hours=scheduling_settings().patient_notice_hours,
    )


def undoable_cancellations(patient) -> list[Appointment]:
    """The patient's visits they cancelled online a few minutes ago: they may still undo it."""
    now = timezone.now()
    return list(
        Appointment.objects.filter(
            patient=patient,
            status=Status.CANCELLED,
            cancelled_by=CancelledBy.PATIENT,
            starts_at__gte=now,
            changes__action=ChangeAction.CANCELLED,
            changes__by_id=patient.portal_user_id,
            changes__at__gt=now - change_notices.undo_window(),
        ).distinct()
    )


# How far back a calendar feed reaches: enough for "past visits", small enough to stay quick.
FEED_HISTORY_DAYS = 365


def active_calendar_feed(patient):
    """The patient's calendar subscription link in use, if they made one."""
    return patient.calendar_feeds.filter(revoked_at__isnull=True).first()


def calendar_feed_appointments(patient) -> list[Appointment]:
    """The appointments a patient's calendar feed carries, cancelled ones included so that
    phones remove them."""
    since = timezone.now() - timedelta(days=FEED_HISTORY_DAYS)
    return list(
        Appointment.objects.filter(patient=patient, starts_at__gte=since)
        .select_related("doctor", "location")
        .order_by("starts_at")
    )


def next_appointments(patient_ids: list[int]) -> dict[int, datetime]:
    """{patient id: start of their next booked appointment} in one query, for the patient
    search (registered with patients.upcoming in SchedulingConfig.ready)."""
    rows = (
        Appointment.objects.filter(
            patient_id__in=patient_ids, status=Status.BOOKED, starts_at__gte=timezone.now()
        )
        .values("patient_id")
        .annotate(next_at=Min("starts_at"))
        .values_list("patient_id", "next_at")
    )
    return dict(rows)
