"""Scheduling's periodic work. The messages themselves go out through `messaging.tasks`."""

from celery import shared_task

from . import reminders
from .services import online_booking, waitlist


@shared_task(ignore_result=True)
def invite_to_touch_ups() -> int:
    """Every minute (beat): plans completed by a chart rather than by a checked-out
    appointment get their touch-up invitation (the key keeps it to one)."""
    return reminders.sweep_completed_plans()


@shared_task(ignore_result=True)
def forget_unconfirmed_online_requests() -> int:
    """Every hour (beat): online booking requests never confirmed are deleted a week after
    their link expired."""
    return online_booking.forget_unconfirmed()


@shared_task(ignore_result=True)
def offer_freed_times() -> int:
    """Every minute (beat): freed times offered to the waitlist, offers with no answer lapsed
    and the next patient asked."""
    return waitlist.offer_openings()
