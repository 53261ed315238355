"""Blocking a doctor's time."""

from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext as _

from goodskin.actors import Actor
from goodskin.roles import STAFF_ROLES, Role

from .. import clock
from ..models import Appointment, Status, TimeOff
from .common import BookingError, _lock_doctor


@transaction.atomic
def add_time_off(
    *, doctor, starts_at: datetime, ends_at: datetime, reason: str, by: Actor
) -> tuple[object, int]:
    """Block a doctor's time. A doctor blocks their own; the front desk any doctor's. Returns
    the block and how many booked appointments fall inside it (to move or cancel)."""
    if by.role == Role.DOCTOR and by.user.pk != doctor.pk:
        raise BookingError(_("A doctor can only block their own time."))
    if by.role not in STAFF_ROLES:
        raise BookingError(_("Only the clinic's staff can do this."))
    if not starts_at < ends_at:
        raise BookingError(_("The end must be after the start."))
    _lock_doctor(doctor.pk)
    block = TimeOff.objects.create(
        doctor=doctor,
        starts_at=clock.utc(starts_at),
        ends_at=clock.utc(ends_at),
        reason=reason,
        created_by=by.user,
    )
    clashes = (
        Appointment.objects.filter(status=Status.BOOKED)
        .for_doctor(doctor)
        .overlapping(block.starts_at, block.ends_at)
        .count()
    )
    return block, clashes
