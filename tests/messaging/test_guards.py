"""Every transaction and row lock of the outbox is there for a reason: each test here commits
(two connections, two threads) and fails when the guard it names is removed."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail import get_connection
from django.db import transaction
from django.utils import timezone

from goodskin.actors import Actor
from messaging import sending, services
from messaging.models import Message, MessageStatus
from patients.models import AuditEntry
from scheduling import reminders
from tests.concurrency import contend
from tests.factories import PatientFactory
from tests.scheduling.conftest import desk_actor

committing = pytest.mark.django_db(transaction=True)


def given_up(patient=None, key="t:1") -> Message:
    now = timezone.now()
    return Message.objects.create(
        key=key,
        patient=patient or PatientFactory(consent_email=True),
        kind=reminders.TOUCH_UP,
        channel="email",
        due_at=now,
        give_up_at=now + timedelta(days=30),
        status=MessageStatus.FAILED,
        attempts=1,
        last_error="550 no such user",
    )


def due(key: str) -> Message:
    now = timezone.now()
    return Message.objects.create(
        key=key,
        patient=PatientFactory(consent_email=True),
        kind=reminders.TOUCH_UP,
        channel="email",
        due_at=now - timedelta(minutes=1),
        give_up_at=now + timedelta(days=30),
    )


@committing
def test_an_unsubscribe_link_clicked_twice_at_once_withdraws_consent_once(db):
    # unsubscribe's patient lock and transaction: one change, one audit entry.
    patient = PatientFactory(consent_email=True)
    anyone = Actor(user=None, role=None, ip="127.0.0.1")

    def unsubscribe():
        return services.unsubscribe(patient=patient, purpose="reminders", by=anyone)

    holder, contender, waited = contend(unsubscribe, unsubscribe)
    assert (holder, contender) == (True, False), (holder, contender)
    assert waited
    patient.refresh_from_db()
    assert patient.consent_reminders is False
    assert patient.consent_email and patient.consent_aftercare
    assert AuditEntry.objects.filter(patient=patient, details__via="unsubscribe link").count() == 1


# --- outbox.py ------------------------------------------------------------------------------


@committing
def test_a_worker_claims_past_rows_another_worker_holds_without_waiting(db):
    # claim's skip_locked (and its own transaction: it runs here in autocommit). The holder
    # is another worker in the middle of its claim.
    taken, free = due("taken"), due("free")
    holder, contender, waited = contend(
        lambda: list(
            Message.objects.select_for_update().filter(pk=taken.pk).values_list("pk", flat=True)
        ),
        lambda: sending.claim(10),
    )
    assert holder == [taken.pk]
    assert contender == [free.pk], contender
    assert not waited


@committing
def test_a_batch_run_inside_another_transaction_is_refused_before_anything_is_sent(db):
    # claim's atomic(durable=True): claimed rows must be committed as "sending" before any
    # is sent, or another worker could claim and send them too.
    row = due("held")
    with pytest.raises(RuntimeError, match="durable"), transaction.atomic():
        sending.send_batch(10)
    row.refresh_from_db()
    assert (row.status, row.attempts) == (MessageStatus.PENDING, 0)
    assert mail.outbox == []


@committing
def test_a_send_cannot_be_recorded_inside_another_transaction(db):
    # Each mark's atomic(durable=True) (_durable_commit). No second connection can show a
    # mark held back, so this shows it the other way: inside an outer transaction the "sent"
    # mark would not reach the disk before the next send (a crash would then send the whole
    # batch again), and recording it is refused.
    row = due("held")
    lease = timezone.now() + sending.LEASE
    assert sending.claim(10, lease=lease) == [row.pk]
    work = sending.Batch([row.pk], lease, get_connection())
    claimed = Message.objects.select_related("patient", "staff").get(pk=row.pk)
    with pytest.raises(RuntimeError, match="durable"), transaction.atomic():
        sending._send_one(claimed, work)


# --- services.py -------------------------------------------------------------------


@committing
def test_send_again_pressed_by_two_people_at_once_re_queues_the_message_once(front_desk):
    # _given_up's row lock and send_again's transaction: the second press waits for the
    # first and is told it has been dealt with.
    failed = given_up()
    desk = desk_actor(front_desk)
    holder, contender, waited = contend(
        lambda: Message.objects.filter(pk=failed.pk).update(  # the first press, not committed
            status=MessageStatus.PENDING, handled_at=timezone.now(), handled_by=front_desk
        ),
        lambda: services.send_again(message_id=failed.pk, by=desk),
    )
    assert holder == 1
    assert isinstance(contender, services.MessageError), contender
    assert waited


@committing
def test_marking_a_given_up_message_as_handled_commits_on_its_own(front_desk):
    failed = given_up()
    services.mark_handled(message_id=failed.pk, by=desk_actor(front_desk))
    failed.refresh_from_db()
    assert failed.handled_by_id == front_desk.pk
