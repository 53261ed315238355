"""What the scheduling use cases share: their error, the settings and default location, the
change log and audit of an appointment, and the locks they take."""

from django.contrib.auth import get_user_model
from django.db import IntegrityError, OperationalError, connection
from django.utils import timezone
from django.utils.translation import gettext as _

from goodskin.actors import Actor
from goodskin.db import locked
from goodskin.roles import STAFF_ROLES
from goodskin.row_versions import columns, prepared_objects, table
from patients import audit
from patients.models import AuditAction, Patient
from treatments.models import TreatmentPlan

from .. import clock, gate, rules
from ..models import (
    ACTIVE_STATUSES,
    Appointment,
    AppointmentChange,
    ChangeAction,
    Kind,
    Location,
    Room,
    SchedulingSettings,
    Status,
)

# How often a booking looks for another room after losing one to a concurrent booking.
ROOM_ATTEMPTS = 3


class BookingError(Exception):
    """A booking that can't be made; the message is for the person who tried."""


class Refused(BookingError):
    """A booking rule said no (rules.py): the message is the rule's, the same the free-time
    search and the series page's dry run give."""

    def __init__(self, refusal: rules.Refusal):
        super().__init__(str(refusal))
        self.refusal = refusal


class SlotTaken(BookingError):
    """A concurrent booking took the time after the rules had let it through: the database's
    exclusion constraint (the final guard) caught it."""

    def __init__(self):
        super().__init__(_("That time was just taken. Please choose another one."))


def scheduling_settings() -> SchedulingSettings:
    """The settings row. A use case reads it once and passes it to what needs it."""
    return SchedulingSettings.current()


def every_location() -> list[Location]:
    """The clinic's locations, in use or not, in the order they were set up: the day and week
    views read them on every page, through a prepared statement (prepared_objects)."""
    if connection.vendor != "postgresql":
        return list(Location.objects.order_by("pk"))
    sql = f"SELECT {columns(Location)} FROM {table(Location)} t ORDER BY t.id"
    return prepared_objects(Location, sql, [])


def first_location() -> Location | None:
    """The clinic's first location, or None before an administrator sets one up."""
    return next(iter(every_location()), None)


def default_location() -> Location:
    location = first_location()
    if location is None:
        raise BookingError(_("No clinic location is set up yet."))
    return location


def office_offers(location: Location, kind: str) -> None:
    """Refuse a booking at an office out of use, or of a kind of visit it doesn't offer."""
    if not location.active:
        raise BookingError(
            _("%(office)s is not in use: choose another office.") % {"office": location.name}
        )
    if not location.offers(kind):
        raise BookingError(
            _("%(office)s offers no %(kind)s: choose another office.")
            % {"office": location.name, "kind": Kind(kind).label.lower()}
        )


def minutes_for(kind: str, plan: TreatmentPlan | None, *, settings: SchedulingSettings) -> int:
    if kind == Kind.SESSION:
        if plan is None:
            raise BookingError(_("A sclerotherapy session belongs to a treatment plan."))
        return plan.session_minutes
    return {
        Kind.CONSULTATION: settings.consultation_minutes,
        Kind.TOUCH_UP: settings.touch_up_minutes,
        Kind.REVIEW: settings.review_minutes,
    }[kind]


def _snapshot(appointment: Appointment) -> dict:
    return {
        "starts_at": appointment.starts_at.isoformat(),
        "ends_at": appointment.ends_at.isoformat(),
        "doctor": appointment.doctor_id,
        "room": appointment.room_id,
        "status": appointment.status,
    }


# In a change's `after`: staff booked or moved it onto a day the clinic is closed, on purpose.
CLOSED_OVERRIDE = "closed_override"


def _log(
    appointment: Appointment,
    *,
    action: ChangeAction,
    before: dict,
    by: Actor,
    closed_override: bool = False,
) -> None:
    user = by.user if getattr(by.user, "is_authenticated", False) else None
    after = _snapshot(appointment)
    if closed_override:
        after[CLOSED_OVERRIDE] = True
    AppointmentChange.objects.create(
        appointment=appointment, by=user, action=action, before=before, after=after
    )
    audit.record(
        actor=by,
        patient=appointment.patient,
        action=AuditAction.CHANGE,
        subject=f"appointment:{appointment.pk}",
        details={"action": action},
    )


def _log_many(
    appointments: list[Appointment],
    *,
    action: ChangeAction,
    by: Actor,
    closed_override: frozenset = frozenset(),
) -> None:
    """_log for appointments just made (a series): two INSERTs, whatever their number.
    `closed_override`: the session numbers booked on a closed day on purpose."""
    user = by.user if getattr(by.user, "is_authenticated", False) else None

    def after(a: Appointment) -> dict:
        snapshot = _snapshot(a)
        if a.session_number in closed_override:
            snapshot[CLOSED_OVERRIDE] = True
        return snapshot

    AppointmentChange.objects.bulk_create(
        AppointmentChange(appointment=a, by=user, action=action, before={}, after=after(a))
        for a in appointments
    )
    audit.record_many(
        actor=by,
        action=AuditAction.CHANGE,
        entries=[(a.patient, f"appointment:{a.pk}", {"action": action}) for a in appointments],
    )


# The exclusion constraint that keeps a patient in one place at a time (migration 0011).
PATIENT_OVERLAP = "appointment_no_patient_overlap"


def _patient_elsewhere(error: Exception) -> bool:
    """The race was lost to another booking of the same patient (any doctor, any room): trying
    another room won't help."""
    diag = getattr(error.__cause__, "diag", None)
    return getattr(diag, "constraint_name", None) == PATIENT_OVERLAP


def _raise_taken(error: Exception):
    """The booking error for a lost race: the patient's own other appointment, or the time."""
    if _patient_elsewhere(error):
        raise Refused(rules.Refusal(rules.Reason.PATIENT_BUSY)) from error
    raise SlotTaken() from error


def _lost_race(error: Exception) -> bool:
    """A concurrent booking won: a violated constraint, or a deadlock between two inserts
    that each checked the other's row against the no-overlap constraint."""
    if isinstance(error, IntegrityError):
        return True
    return getattr(error.__cause__, "pgcode", None) == "40P01"


def _save_or_taken(appointment: Appointment) -> None:
    """Save a changed appointment; a lost race (the no-overlap constraints, or a deadlock
    PostgreSQL broke) is a clean SlotTaken or Refused. No savepoint: a lost race ends the whole
    use case, which rolls back, so nothing runs after it in the transaction."""
    try:
        appointment.save()
    except (IntegrityError, OperationalError) as error:
        if not _lost_race(error):
            raise
        _raise_taken(error)


def _lock_doctor(doctor_id: int) -> None:
    # One booking at a time per doctor: the buffer between appointments is checked here, and
    # the exclusion constraint can only guard the appointments themselves.
    locked(get_user_model().objects).filter(pk=doctor_id).first()


def session_days(plan: TreatmentPlan, tz, exclude_id: int | None = None) -> list[tuple]:
    """(session number, local day) of the plan's booked, done and charted sessions."""
    days = [
        (a.session_number, a.starts_at.astimezone(tz).date())
        for a in plan.appointments.filter(status__in=(*ACTIVE_STATUSES, Status.COMPLETED)).exclude(
            pk=exclude_id
        )
    ]
    return days + [(c.number, c.treated_on) for c in plan.charts.all()]


def _session(
    plan: TreatmentPlan,
    number: int,
    *,
    patient: Patient,
    tz,
    exclude_id: int | None = None,
    earlier_only: bool = False,
) -> rules.Session:
    """What the rules need to know about booking the plan's session `number`: what the
    eligibility gate blocks it for and the plan's other sessions (four queries)."""
    return rules.Session(
        plan=plan,
        number=number,
        blockers=gate.session_blockers(plan, [number]).get(number, ""),
        others=session_days(plan, tz, exclude_id=exclude_id),
        earlier_only=earlier_only,
    )


def _room_or_refuse(
    calendar,
    *,
    patient: Patient,
    doctor_id: int,
    starts_at,
    ends_at,
    session: rules.Session | None,
    room: Room | None = None,
    open_anyway: bool = False,
) -> tuple[Room, bool]:
    """The room to book if every rule lets the time through (rules.refusal; a closed day too
    when staff book `open_anyway`), and whether that override was needed; else Refused."""
    problem = rules.refusal(
        calendar,
        patient=patient,
        doctor_id=doctor_id,
        starts_at=starts_at,
        ends_at=ends_at,
        now=timezone.now(),
        session=session,
        room=room,
        open_anyway=open_anyway,
    )
    if problem is not None:
        raise Refused(problem)
    day = starts_at.astimezone(clock.zone(calendar.location.time_zone)).date()
    overridden = open_anyway and rules.clinic_open(calendar, day) is not None
    return rules.free_room(calendar, starts_at, ends_at, wanted=room), overridden


def _require_staff(by: Actor) -> None:
    if by.role not in STAFF_ROLES:
        raise BookingError(_("Only the clinic's staff can do this."))


def _locked(appointment: Appointment, version: int | None) -> Appointment:
    current = (
        locked(Appointment.objects, of=("self",))
        .select_related("patient", "plan", "location")
        .get(pk=appointment.pk)
    )
    if version is not None and current.version != version:
        raise BookingError(
            _(
                "Someone else changed this appointment meanwhile. "
                "Look at it again before changing it."
            )
        )
    return current
