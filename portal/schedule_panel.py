"""The patient's home page (portal schedule), kept in the cache under a fingerprint of every
row it shows, as the record page's appointments are (scheduling.record_panel): a home page
opened again with nothing changed is not read and written again (it was most of the page's
time: sixteen queries, the plan's progress and its picture, the aftercare steps; bench/load.py,
"portal schedule").

The fingerprint is one query: the versions of the patient's row, their visits with each one's
doctor, their plans, those plans' charts and treated areas, and of every office, scheduling
and clinic settings and aftercare step row. Any write to one of them, by any path, makes a new
fingerprint. What moves with the clock is in the key: the next instant one of their visits
starts (it then moves from "coming up" to "past visits") and the day (the days left with the
support hose, when the next session may be). The cancellations the patient may still undo are
read on every page, outside the kept part (each has a form with its token and goes after a few
minutes)."""

from django.contrib.auth import get_user_model
from django.template.loader import render_to_string
from django.utils import timezone

from goodskin.kept import fingerprint_row, remember
from goodskin.row_versions import versions
from patients.models import Patient
from scheduling import clock, selectors
from scheduling.models import Appointment, Kind, Location, SchedulingSettings
from treatments import diagram
from treatments.models import (
    AftercareStep,
    ClinicSettings,
    PlanStatus,
    SessionChart,
    TreatedArea,
    TreatmentPlan,
)

from .views import aftercare_context

_VISITS = Appointment._meta.db_table
_PLANS = TreatmentPlan._meta.db_table
_CHARTS = SessionChart._meta.db_table
_DOCTOR = (get_user_model()._meta.db_table, "doctor_id")
_THEIR_PLANS = f"SELECT id FROM {_PLANS} WHERE patient_id = %(patient)s"
_THEIR_CHARTS = f"SELECT id FROM {_CHARTS} WHERE plan_id IN ({_THEIR_PLANS})"
FINGERPRINT = f"""
    SELECT md5(concat_ws('|',
        {versions(Patient._meta.db_table, "t.id = %(patient)s")},
        {versions(_VISITS, "t.patient_id = %(patient)s", beside=_DOCTOR)},
        {versions(_PLANS, "t.patient_id = %(patient)s")},
        {versions(_CHARTS, f"t.plan_id IN ({_THEIR_PLANS})")},
        {versions(TreatedArea._meta.db_table, f"t.chart_id IN ({_THEIR_CHARTS})")},
        {versions(Location._meta.db_table, "TRUE")},
        {versions(SchedulingSettings._meta.db_table, "TRUE")},
        {versions(ClinicSettings._meta.db_table, "TRUE")},
        {versions(AftercareStep._meta.db_table, "TRUE")})),
    (SELECT min(starts_at) FROM {_VISITS}
     WHERE patient_id = %(patient)s AND starts_at >= %(now)s),
    (SELECT string_agg(DISTINCT time_zone, ',') FROM {Location._meta.db_table})
"""


def kept(request, patient) -> tuple[str, str]:
    """The home page's two kept parts, (greeting, the rest): the cancellations the patient may
    undo go between them."""
    now = timezone.now()

    def write() -> tuple[str, str]:
        return _write(request, patient)

    row = fingerprint_row(FINGERPRINT, {"patient": patient.pk, "now": now})
    if row is None:
        return write()
    found, turns, zones = row
    # The day it is where the page is shown and at each office (a session's hose days are
    # counted in its office's days).
    days = {timezone.localdate(now)} | {
        timezone.localdate(now, clock.zone(name)) for name in (zones or "").split(",") if name
    }
    parts = (
        patient.pk,
        timezone.get_current_timezone_name(),
        ",".join(sorted(day.isoformat() for day in days)),
        turns.isoformat() if turns else "-",
    )
    return remember("portal-schedule", found, parts, write)


def _write(request, patient) -> tuple[str, str]:
    mine = selectors.patient_schedule(patient)
    context = {
        "patient": patient,
        "upcoming": mine.upcoming,
        "past": mine.past,
        "progress": mine.progress,
        "today": timezone.localdate(),
        "legend": diagram.legend(),
        "latest": mine.latest,
        "notice_hours": mine.notice_hours,
        "may_book_next": _may_book_next(mine),
        "consultation_coming": any(visit.kind == Kind.CONSULTATION for visit in mine.upcoming),
        **aftercare_context(mine.progress.plan if mine.progress else None),
    }
    return (
        render_to_string("portal/_schedule_greeting.html", context, request=request),
        render_to_string("portal/_schedule_rest.html", context, request=request),
    )


def _may_book_next(mine) -> bool:
    """The plan is under way and has sessions left that no visit is booked for (from what the
    page loaded already; the booking page checks the plan's rules)."""
    progress = mine.progress
    if progress is None or progress.plan.status != PlanStatus.ACTIVE:
        return False
    booked = sum(1 for visit in mine.upcoming if visit.plan_id == progress.plan.pk)
    return progress.sessions_done + booked < progress.plan.sessions_planned
