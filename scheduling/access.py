"""The one way a view reaches an appointment or a plan to book: checks the role, then the
object, and audits the read. Anyone who may not see it gets 404, so ids reveal nothing."""

from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404

from goodskin.actors import Actor
from goodskin.roles import STAFF_ROLES, Role, role_of
from patients import audit
from patients.access import get_own_patient
from patients.models import AuditAction
from treatments.models import TreatmentPlan

from .models import Appointment, CalendarFeed

# Who may book, move and cancel. Doctors see the days and set a visit's status, but the
# diary is the front desk's: two people moving the same slot is how clinics double-book.
BOOKING_ROLES = (Role.FRONT_DESK,)


def _role(request: HttpRequest, roles: tuple[Role, ...]) -> None:
    if role_of(request.user) not in roles:
        raise Http404


def get_appointment_for_user(
    request: HttpRequest, pk: int, *, roles: tuple[Role, ...] = STAFF_ROLES
) -> Appointment:
    """An appointment for the clinic's staff (or `roles`); 404 for everyone else."""
    _role(request, roles)
    appointment = get_object_or_404(
        Appointment.objects.select_related(
            "patient", "doctor", "room", "location", "plan", "created_by"
        ),
        pk=pk,
    )
    audit.record(
        actor=Actor.from_request(request),
        patient=appointment.patient,
        action=AuditAction.VIEW,
        subject=f"appointment:{pk}",
    )
    return appointment


def get_plan_for_booking(request: HttpRequest, pk: int) -> TreatmentPlan:
    """A treatment plan whose sessions the front desk books; 404 for everyone else."""
    _role(request, BOOKING_ROLES)
    plan = get_object_or_404(TreatmentPlan.objects.select_related("patient", "doctor"), pk=pk)
    audit.record(
        actor=Actor.from_request(request),
        patient=plan.patient,
        action=AuditAction.VIEW,
        subject=f"plan:{pk} series",
    )
    return plan


def record_schedule_read(request: HttpRequest, subject: str, appointments) -> None:
    """A day or week view shows many patients' names: one audit entry lists them all (the
    appointments, or their ids), so the page's queries don't grow with the day."""
    audit.record_many(  # one INSERT of its own making: a model's save() cost more than it
        actor=Actor.from_request(request),
        action=AuditAction.VIEW,
        entries=[(None, subject, {"appointments": [getattr(a, "pk", a) for a in appointments]})],
    )


def get_own_appointment(request: HttpRequest, pk: int) -> Appointment:
    """The signed-in patient's own appointment, for the portal; 404 for anyone else's, with
    nothing of it in the page."""
    patient = get_own_patient(request, subject="appointment")
    appointment = get_object_or_404(
        Appointment.objects.select_related("doctor", "location", "plan"), pk=pk, patient=patient
    )
    appointment.patient = patient  # the row just read, not read again beside the visit
    return appointment


def get_calendar_feed(request: HttpRequest, token: str) -> CalendarFeed:
    """A calendar subscription by its token, the only key (calendar apps can't log in): a
    revoked or made-up token is 404. The read is audited with no user, from the caller's IP."""
    feed = (
        CalendarFeed.objects.select_related("patient")
        .filter(token=token, revoked_at__isnull=True)
        .first()
    )
    if feed is None:
        raise Http404
    audit.record(
        actor=Actor(user=None, role=None, ip=request.META.get("REMOTE_ADDR")),
        patient=feed.patient,
        action=AuditAction.VIEW,
        subject="calendar feed",
    )
    return feed
