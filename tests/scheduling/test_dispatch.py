"""The dispatcher against the real Redis broker: it tops the queue of reminder batches up to
one per 100 due reminders and never adds batches that are already waiting (a worker back
after an outage finds one round of work, not one per minute it was away)."""

import pytest
from celery import current_app

from scheduling.tasks import BATCH_QUEUE, dispatch_reminders, waiting_batches
from tests.scheduling.test_outbox_real import make_due


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
    assert dispatch_reminders() == 3
    assert waiting_batches() == 3


def test_it_adds_nothing_while_the_batches_still_wait(db, empty_queue):
    make_due(250)
    dispatch_reminders()
    for _minute in range(5):  # the worker is down: beat keeps ringing
        assert dispatch_reminders() == 0
    assert waiting_batches() == 3


def test_it_tops_up_once_the_worker_has_taken_the_batches(db, empty_queue):
    make_due(150)
    dispatch_reminders()
    empty_queue()  # a worker took them, but the rows are still due (e.g. it was killed)
    assert dispatch_reminders() == 2


def test_it_adds_nothing_when_nothing_is_due(db, empty_queue):
    assert dispatch_reminders() == 0
    assert waiting_batches() == 0
