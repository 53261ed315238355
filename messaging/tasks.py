"""Celery tasks: wake up, then let the outbox do the work. Redis only rings the bell; the rows
in the database are the truth, so a lost task costs at most a minute."""

from math import ceil

from celery import current_app, shared_task
from kombu.exceptions import ChannelError

from . import sending

BATCH = 100
BATCH_QUEUE = "message-batches"  # routed there in settings (CELERY_TASK_ROUTES)


@shared_task(ignore_result=True)
def dispatch_messages() -> int:
    """Every minute (beat): put lapsed leases back, then make sure there is one batch task per
    100 due messages, so that every worker process can help; batches still waiting in the
    queue count. Returns how many it added."""
    sending.release_expired_leases()
    missing = ceil(sending.count_due() / BATCH) - waiting_batches()
    for _ in range(max(0, missing)):
        send_message_batch.delay()
    return max(0, missing)


def waiting_batches() -> int:
    """Batch tasks in the broker's queue that no worker has taken yet."""
    with current_app.connection_for_write() as connection:
        try:
            declared = connection.default_channel.queue_declare(queue=BATCH_QUEUE, passive=True)
        except ChannelError:  # not made yet: nothing waits
            return 0
        return declared.message_count


@shared_task(ignore_result=True, acks_late=True)
def send_message_batch() -> dict:
    return sending.send_batch(BATCH)
