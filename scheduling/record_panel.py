"""The patient's appointments on their record page (issue 17, point 1): what is coming and
what has been, the sessions of their active plan with the time each is booked, and the buttons
that open the free times for this patient with the kind and doctor already chosen. Registered
with patients.record_panels; a fixed number of queries however long the history."""

from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from goodskin.roles import role_of
from goodskin.row_versions import versions
from patients.record_page import Part
from treatments.models import PlanStatus, TreatmentPlan

from . import clock
from .access import BOOKING_ROLES
from .models import Appointment, Kind, Status, WaitlistEntry, WaitlistStatus

PAST_SHOWN = 10
ACTIVE = (Status.BOOKED, Status.CHECKED_IN, Status.IN_PROGRESS)


_VISITS = Appointment._meta.db_table
_PLANS = TreatmentPlan._meta.db_table
_MINE = "t.patient_id = %(patient)s"
_DOCTOR = (get_user_model()._meta.db_table, "doctor_id")
# Two reads, each through its index (an OR of the two would read the whole table).
_THEIR_VISITS = (
    f"SELECT id FROM {_VISITS} WHERE patient_id = %(patient)s UNION SELECT id FROM {_VISITS}"
    f" WHERE plan_id IN (SELECT id FROM {_PLANS} WHERE patient_id = %(patient)s)"
)
# What the panel shows: the patient's visits (and their plans' visits) with each one's doctor,
# their plans with each one's doctor, their waitlist entries; and the next instant one of
# their visits starts or ends, which moves it between "coming" and "past" (>=: at that very
# instant the panel still shows it where it was, and the instant after it moves).
VISITS_READ = versions(_VISITS, f"t.id IN ({_THEIR_VISITS})", beside=_DOCTOR)
PLANS_READ = versions(_PLANS, _MINE, beside=_DOCTOR)
WAITING_READ = versions(WaitlistEntry._meta.db_table, _MINE)
TURNS = f"""(SELECT least(min(starts_at) FILTER (WHERE starts_at >= %(now)s),
                 min(ends_at) FILTER (WHERE ends_at >= %(now)s))
    FROM {_VISITS} WHERE patient_id = %(patient)s)"""
# For the record page that the panel is on (patients.record_page).
READS = (Part(VISITS_READ, clock=TURNS), Part(PLANS_READ), Part(WAITING_READ))


def plan_sessions(plan) -> list[tuple[int, Appointment | None]]:
    """(session number, its booked appointment or None) for each session of the plan."""
    booked = {
        a.session_number: a
        for a in plan.appointments.filter(kind=Kind.SESSION)
        .exclude(status=Status.CANCELLED)
        .select_related("doctor")
        .order_by("starts_at")
    }
    return [(n, booked.get(n)) for n in range(1, plan.sessions_planned + 1)]


def plan_sessions_panel(request, plan) -> str:
    """The plan's page: each session with the time it is booked (issue 17, point 5)."""
    if plan.status not in (PlanStatus.ACTIVE, PlanStatus.COMPLETED):
        return ""
    sessions = plan_sessions(plan)
    tz = clock.zone()
    for _number, appointment in sessions:
        if appointment is not None:
            appointment.local_start = appointment.starts_at.astimezone(tz)
    can_book = role_of(request.user) in BOOKING_ROLES and plan.status == PlanStatus.ACTIVE
    context = {
        "plan": plan,
        "sessions": sessions,
        "series_url": reverse("scheduling:book_series", args=[plan.pk])
        if can_book and any(a is None for _n, a in sessions)
        else "",
    }
    return render_to_string("scheduling/_plan_sessions.html", context, request=request)


def _slots(**params) -> str:
    return f"{reverse('scheduling:slots')}?{urlencode(params)}"


def appointments_panel(request, patient) -> str:
    """The panel. Kept with the whole record page (patients.record_page), under READS and the
    next instant one of the patient's visits starts or ends (TURNS, which moves it from
    "coming" to "past")."""
    return _panel(request, patient, timezone.now(), role_of(request.user) in BOOKING_ROLES)


def _panel(request, patient, now, can_book: bool) -> str:
    rows = Appointment.objects.filter(patient=patient).select_related("doctor", "location")
    upcoming = list(rows.filter(status__in=ACTIVE, ends_at__gte=now).order_by("starts_at")[:20])
    past = list(
        rows.exclude(pk__in=[a.pk for a in upcoming])
        .filter(starts_at__lt=now)
        .order_by("-starts_at")[:PAST_SHOWN]
    )
    plan = (
        TreatmentPlan.objects.filter(patient=patient, status=PlanStatus.ACTIVE)
        .select_related("doctor")
        .first()
    )
    sessions = plan_sessions(plan) if plan is not None else []
    tz = clock.zone()
    for appointment in (*upcoming, *past, *(a for _n, a in sessions if a)):
        appointment.local_start = appointment.starts_at.astimezone(tz)
    buttons = []
    if can_book:
        buttons.append((_("Book consultation"), _slots(kind=Kind.CONSULTATION, patient=patient.pk)))
        if plan is not None:
            open_numbers = [n for n, a in sessions if a is None]
            if open_numbers:
                buttons.append(
                    (_("Book the series"), reverse("scheduling:book_series", args=[plan.pk]))
                )
                buttons.append(
                    (
                        _("Book next session"),
                        _slots(kind=Kind.SESSION, patient=patient.pk, doctor=plan.doctor_id),
                    )
                )
        buttons.append(
            (_("Add to waitlist"), reverse("scheduling:waitlist_add", args=[patient.pk]))
        )
    context = {
        "patient": patient,
        "upcoming": upcoming,
        "past": past,
        "plan": plan,
        "sessions": sessions,
        "buttons": buttons,
        "waiting": WaitlistEntry.objects.filter(
            patient=patient, status=WaitlistStatus.WAITING
        ).order_by("pk"),
    }
    return render_to_string("scheduling/_record_appointments.html", context, request=request)
