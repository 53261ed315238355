"""Times that become free, written in the transaction that frees them (a cancellation, a move,
time off lifted), for the waitlist to offer (scheduling.services.waitlist). A module of its own
so that the services that free time need not import the waitlist's."""

from datetime import datetime

from django.utils import timezone

from .models import Appointment, Opening, OpeningReason, OpeningStatus


def time_freed(
    *,
    doctor_id: int,
    location_id: int,
    starts_at: datetime,
    ends_at: datetime,
    reason: str,
    appointment: Appointment | None = None,
    offer_from: datetime | None = None,
) -> Opening | None:
    """The time, to offer to the waitlist; nothing for a time already past. `offer_from`: not
    before then (a patient's own cancellation may be undone for a few minutes)."""
    now = timezone.now()
    if ends_at <= now:
        return None
    return Opening.objects.create(
        doctor_id=doctor_id,
        location_id=location_id,
        starts_at=max(starts_at, now),
        ends_at=ends_at,
        reason=reason,
        appointment=appointment,
        offer_from=offer_from or now,
    )


def appointment_freed(
    appointment: Appointment,
    reason: OpeningReason,
    *,
    doctor_id: int,
    starts_at: datetime,
    ends_at: datetime,
    offer_from: datetime | None = None,
) -> None:
    """The time `appointment` held (before a move: the old one) is free."""
    time_freed(
        doctor_id=doctor_id,
        location_id=appointment.location_id,
        starts_at=starts_at,
        ends_at=ends_at,
        reason=reason,
        appointment=appointment,
        offer_from=offer_from,
    )


def appointment_restored(appointment: Appointment) -> None:
    """A cancellation undone: the time it freed is not free any more."""
    Opening.objects.filter(
        appointment=appointment, reason=OpeningReason.CANCELLED, status=OpeningStatus.OPEN
    ).update(status=OpeningStatus.CLOSED, closed_at=timezone.now())
