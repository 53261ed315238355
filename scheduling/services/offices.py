"""Offices, their rooms and the doctors' hours there, set up by an administrator in the app
(issue 17, point 4). Every change is audited (no patient: configuration, not patient data)."""

from datetime import time

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from goodskin import when
from goodskin.actors import Actor
from goodskin.roles import Role, role_of
from patients import audit
from patients.models import AuditAction

from ..models import Kind, Location, Room, Weekday, WorkingHours


class OfficeError(Exception):
    """A change of the offices' set-up that can't be made; the message is for the person."""


def _require_admin(by: Actor) -> None:
    if by.role != Role.ADMIN:
        raise OfficeError(_("Only an administrator can change the offices."))


def _audit(by: Actor, action: AuditAction, subject: str, details: dict) -> None:
    audit.record(actor=by, patient=None, action=action, subject=subject, details=details)


@transaction.atomic
def save_office(
    *,
    office: Location | None,
    name: str,
    address: str,
    phone: str,
    time_zone: str,
    active: bool,
    kinds: list[str],
    by: Actor,
) -> Location:
    """Create an office (`office` None) or change one."""
    _require_admin(by)
    kinds = [kind for kind in Kind.values if kind in kinds]
    if not kinds:
        raise OfficeError(_("An office offers at least one kind of visit."))
    new = office is None
    office = office or Location()
    office.name, office.address, office.phone = name, address, phone
    office.time_zone, office.active, office.kinds = time_zone, active, kinds
    office.save()
    _audit(
        by,
        AuditAction.CREATE if new else AuditAction.CHANGE,
        f"office:{office.pk}",
        {"name": name, "active": active, "kinds": kinds, "time_zone": time_zone},
    )
    return office


@transaction.atomic
def add_room(*, office: Location, name: str, by: Actor) -> Room:
    _require_admin(by)
    if office.rooms.filter(name__iexact=name).exists():
        raise OfficeError(_("This office has a room of that name already."))
    room = Room.objects.create(location=office, name=name)
    _audit(by, AuditAction.CREATE, f"room:{room.pk}", {"office": office.pk, "name": name})
    return room


@transaction.atomic
def change_room(*, room: Room, name: str, active: bool, by: Actor) -> Room:
    """Rename a room or take it out of use (its past appointments keep it)."""
    _require_admin(by)
    if Room.objects.filter(location_id=room.location_id, name__iexact=name).exclude(pk=room.pk):
        raise OfficeError(_("This office has a room of that name already."))
    room.name, room.active = name, active
    room.save(update_fields=["name", "active"])
    _audit(by, AuditAction.CHANGE, f"room:{room.pk}", {"name": name, "active": active})
    return room


def _overlap_message(clash: WorkingHours) -> str:
    doctor = clash.doctor.get_full_name() or clash.doctor.get_username()
    return _(
        "Dr %(doctor)s already works %(day)s %(starts)s–%(ends)s at %(office)s: "
        "a doctor's hours can't overlap."
    ) % {
        "doctor": doctor,
        "day": Weekday(clash.weekday).label,
        "starts": when.time_of(clash.starts),
        "ends": when.time_of(clash.ends),
        "office": clash.location.name,
    }


@transaction.atomic
def save_hours(
    *,
    hours: WorkingHours | None,
    office: Location,
    doctor,
    weekday: int,
    starts: time,
    ends: time,
    by: Actor,
) -> WorkingHours:
    """Add a doctor's hours at an office on a weekday (`hours` None), or change them. Hours
    that overlap the same doctor's on that weekday, at this office or another, are refused:
    the doctor would be offered in two places at once."""
    _require_admin(by)
    if role_of(doctor) != Role.DOCTOR:
        raise OfficeError(_("Choose one of the clinic's doctors."))
    if starts >= ends:
        raise OfficeError(_("The hours end after they start."))
    clash = (
        WorkingHours.objects.filter(
            doctor=doctor, weekday=weekday, starts__lt=ends, ends__gt=starts
        )
        .exclude(pk=hours.pk if hours else None)
        .select_related("location", "doctor")
        .first()
    )
    if clash is not None:
        raise OfficeError(_overlap_message(clash))
    new = hours is None
    hours = hours or WorkingHours(location=office)
    hours.doctor, hours.weekday, hours.starts, hours.ends = doctor, weekday, starts, ends
    try:
        hours.save()
    except IntegrityError as error:
        # The exclusion constraint (migration 0015) caught hours someone else saved since the
        # check above. No savepoint: the refusal ends the use case, which rolls back.
        raise OfficeError(
            _("Someone else saved overlapping hours meanwhile. Look at the hours again.")
        ) from error
    _audit(
        by,
        AuditAction.CREATE if new else AuditAction.CHANGE,
        f"working hours:{hours.pk}",
        {
            "office": office.pk,
            "doctor": doctor.pk,
            "weekday": weekday,
            "starts": starts.isoformat(),
            "ends": ends.isoformat(),
        },
    )
    return hours


@transaction.atomic
def remove_hours(*, hours: WorkingHours, by: Actor) -> None:
    """Booked appointments in them stay booked: the front desk moves them if need be."""
    _require_admin(by)
    details = {"office": hours.location_id, "doctor": hours.doctor_id, "weekday": hours.weekday}
    subject = f"working hours:{hours.pk}"
    hours.delete()
    _audit(by, AuditAction.DELETE, subject, details)
