"""Celery tasks: wake up, then let the outbox do the work. Redis only rings the bell; the rows
in the database are the truth, so a lost task costs at most a minute."""

from math import ceil

from celery import shared_task

from . import outbox, reminders

BATCH = 100


@shared_task(ignore_result=True)
def dispatch_reminders() -> int:
    """Every minute (beat): put lapsed leases back, then start one batch task per 100 due
    reminders so that every worker process can help."""
    outbox.release_expired_leases()
    reminders.sweep_completed_plans()
    batches = ceil(outbox.count_due() / BATCH)
    for _ in range(batches):
        send_reminder_batch.delay()
    return batches


@shared_task(ignore_result=True, acks_late=True)
def send_reminder_batch() -> dict:
    return outbox.send_batch(BATCH)
