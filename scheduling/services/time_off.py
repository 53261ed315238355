"""Blocking a doctor's time."""

import uuid
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from goodskin.actors import Actor
from goodskin.roles import STAFF_ROLES, Role

from .. import clock
from ..models import Appointment, Status, TimeOff
from .common import BookingError, _lock_doctor


class TimeOffAlreadySaved(BookingError):
    """The same time-off form was posted twice (a double click); `saved` is the first block."""

    def __init__(self, saved):
        super().__init__(_("This time was already blocked; nothing was saved twice."))
        self.saved = saved


@transaction.atomic
def add_time_off(
    *,
    doctor,
    starts_at: datetime,
    ends_at: datetime,
    reason: str,
    by: Actor,
    form_token: uuid.UUID | None = None,
) -> tuple[object, int]:
    """Block a doctor's time. A doctor blocks their own; the front desk any doctor's. Returns
    the block and how many booked appointments fall inside it (to move or cancel). A second
    post of the same form raises TimeOffAlreadySaved."""
    if by.role == Role.DOCTOR and by.user.pk != doctor.pk:
        raise BookingError(_("A doctor can only block their own time."))
    if by.role not in STAFF_ROLES:
        raise BookingError(_("Only the clinic's staff can do this."))
    if not starts_at < ends_at:
        raise BookingError(_("The end must be after the start."))
    _lock_doctor(doctor.pk)
    # After the lock: a second post racing the first waits for it and finds its block here.
    if form_token and (saved := TimeOff.objects.filter(form_token=form_token).first()):
        raise TimeOffAlreadySaved(saved)
    try:
        # A savepoint: the unique token is the last word if the two posts name other doctors.
        with transaction.atomic():
            block = TimeOff.objects.create(
                doctor=doctor,
                starts_at=clock.utc(starts_at),
                ends_at=clock.utc(ends_at),
                reason=reason,
                created_by=by.user,
                form_token=form_token,
            )
    except IntegrityError as error:
        raise TimeOffAlreadySaved(TimeOff.objects.filter(form_token=form_token).first()) from error
    clashes = (
        Appointment.objects.filter(status=Status.BOOKED)
        .for_doctor(doctor)
        .overlapping(block.starts_at, block.ends_at)
        .count()
    )
    return block, clashes
