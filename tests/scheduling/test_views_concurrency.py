"""Twenty front-desk browsers click "Book" for the same slot at the same moment: through the
whole HTTP stack, each request on its own PostgreSQL connection."""

import threading

import pytest
from django.db import connections
from django.test import Client
from django.urls import reverse

from scheduling.models import Appointment
from tests.factories import PatientFactory, UserFactory
from tests.scheduling.conftest import MONDAY, at, work_weekdays
from tests.scheduling.test_double_booking import overlapping_pairs

THREADS = 20


@pytest.mark.django_db(transaction=True)
def test_it_books_one_slot_once_when_twenty_desks_post_at_once(now, office, front_desk):
    doctor = UserFactory(username="dr.http", role="doctor")
    work_weekdays(doctor, office)
    patients = [PatientFactory() for _ in range(THREADS)]
    clients = []
    for _ in range(THREADS):
        client = Client()
        client.force_login(front_desk)
        clients.append(client)
    barrier = threading.Barrier(THREADS)
    statuses: list = [None] * THREADS

    def post(index: int) -> None:
        try:
            barrier.wait()
            response = clients[index].post(
                reverse("scheduling:book", args=[patients[index].pk]),
                {"kind": "consultation", "doctor": doctor.pk, "date": "2026-11-30",
                 "time": "10:00"},
            )  # fmt: skip
            body = response.content.decode() if response.status_code == 200 else ""
            statuses[index] = (response.status_code, "The doctor is busy or off" in body)
        except Exception as error:  # noqa: BLE001 - the test inspects every outcome
            statuses[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(statuses, key=str) == sorted(
        [(302, False)] + [(200, True)] * (THREADS - 1), key=str
    ), statuses
    assert Appointment.objects.count() == 1
    assert Appointment.objects.get().starts_at == at(MONDAY, 10)
    assert overlapping_pairs() == 0
