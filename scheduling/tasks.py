"""Scheduling's periodic work. The messages themselves go out through `messaging.tasks`."""

from celery import shared_task

from . import reminders


@shared_task(ignore_result=True)
def invite_to_touch_ups() -> int:
    """Every minute (beat): plans completed by a chart rather than by a checked-out
    appointment get their touch-up invitation (the key keeps it to one)."""
    return reminders.sweep_completed_plans()
