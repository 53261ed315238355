"""The dispatcher against the real Redis broker: it tops the queue of reminder batches up to
one per 100 due reminders and never adds batches that are already waiting (a worker back
after an outage finds one round of work, not one per minute it was away)."""

import pytest
from celery import current_app

from messaging.tasks import (
    BATCH_QUEUE,
    dispatch_messages,
    send_message_batch,
    waiting_batches,
)
from tests.messaging.test_outbox_real import make_due


@pytest.fixture
def empty_queue():
    def purge() -> None:
        with current_app.connection_for_write() as connection:
            connection.default_channel.queue_purge(BATCH_QUEUE)

    purge()
    yield purge
    purge()


def test_it_adds_one_batch_per_hundred_due_reminders(db, empty_queue):
    make_due(250)
    assert dispatch_messages() == 3
    assert waiting_batches() == 3


def test_it_adds_nothing_while_the_batches_still_wait(db, empty_queue):
    make_due(250)
    dispatch_messages()
    for _minute in range(5):  # the worker is down: beat keeps ringing
        assert dispatch_messages() == 0
    assert waiting_batches() == 3


def test_it_tops_up_once_the_worker_has_taken_the_batches(db, empty_queue):
    make_due(150)
    dispatch_messages()
    empty_queue()  # a worker took them, but the rows are still due (e.g. it was killed)
    assert dispatch_messages() == 2


def test_it_adds_nothing_when_nothing_is_due(db, empty_queue):
    assert dispatch_messages() == 0
    assert waiting_batches() == 0


def test_each_task_reaches_its_own_queue_once(empty_queue):
    """With both queues declared and bound, as a worker does, a batch lands in its queue only
    and the dispatcher's task in the default queue only."""
    with current_app.connection_for_write() as connection:
        channel = connection.default_channel
        for queue in current_app.amqp.queues.values():
            queue(channel).declare()
        channel.queue_purge("celery")
        send_message_batch.delay()
        dispatch_messages.delay()
        counts = {
            name: channel.queue_declare(queue=name, passive=True).message_count
            for name in ("celery", BATCH_QUEUE)
        }
        channel.queue_purge("celery")
    assert counts == {"celery": 1, BATCH_QUEUE: 1}
