"""The day and week views' cards kept under a fingerprint of their rows (scheduling.card_cache,
day_page, week_page): any change to a row a card reads shows on the next page, whoever wrote it
and however; with nothing changed, the cards are not written again; without the cache, pages
work as before."""

import uuid
from datetime import date, timedelta

import pytest
import time_machine
from django.db import connection
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone, translation

from goodskin import kept
from scheduling import card_cache, selectors
from scheduling.clock import day_bounds
from scheduling.models import Appointment, BookingRequest, Kind, Room, Status
from tests.conftest import CACHE_DOWN
from tests.factories import PatientFactory

from .conftest import MONDAY, TZ, at

pytestmark = pytest.mark.django_db
# As production runs: each write committed before the next page (the others run inside the
# test's transaction, where a row written twice keeps its xmin and moves its ctid).
committing = pytest.mark.django_db(transaction=True)
MINUTE = timedelta(minutes=1)


def visit(office, doctor, hour, patient=None, **fields) -> Appointment:
    room = Room.objects.get(location=office, name="Room 1")
    return Appointment.objects.create(
        patient=patient or PatientFactory(),
        doctor=doctor,
        location=office,
        room=room,
        kind=fields.pop("kind", Kind.CONSULTATION),
        starts_at=at(MONDAY, hour),
        ends_at=at(MONDAY, hour) + 20 * MINUTE,
        **fields,
    )


def fingerprint(rows) -> str | None:
    """The cards' own part of the day and week views' fingerprints, for `rows`; None where it
    can't be taken."""
    return card_cache.rows_fingerprint(
        rows,
        lambda where: (
            f"WITH shown AS ({card_cache.shown_sql(where)})"
            f" SELECT md5(concat_ws('|', {card_cache.card_versions()}))"
        ),
        [],
    )


def monday_rows(**filters):
    return Appointment.objects.overlapping(*day_bounds(MONDAY, TZ)).filter(**filters)


def changes(office, doctor, other_doctor):
    """Each a change to one thing a card shows, made the way some write path might."""
    room = Room.objects.get(location=office, name="Room 1")

    def rename_patient(a):
        a.patient.legal_last_name = "Renamed"
        a.patient.save(update_fields=["legal_last_name"])

    def rename_doctor(a):
        a.doctor.first_name = "Renamed"
        a.doctor.save(update_fields=["first_name"])

    def rename_room(a):
        Room.objects.filter(pk=room.pk).update(name="Blue room")

    def status(a):
        Appointment.objects.filter(pk=a.pk).update(status=Status.CHECKED_IN)

    def notes(a):
        Appointment.objects.filter(pk=a.pk).update(notes="Bring the hose.")

    def other_doctor_takes_it(a):
        Appointment.objects.filter(pk=a.pk).update(doctor=other_doctor)

    def moved_away(a):
        Appointment.objects.filter(pk=a.pk).update(
            starts_at=a.starts_at + timedelta(days=1), ends_at=a.ends_at + timedelta(days=1)
        )

    def another_booked(a):
        visit(office, doctor, 14)

    def deleted(a):
        Appointment.objects.filter(pk=a.pk).delete()

    def booked_online(a):
        BookingRequest.objects.create(
            legal_first_name="Ana",
            legal_last_name="Diaz",
            date_of_birth=date(1980, 1, 1),
            email="ana@example.org",
            doctor=doctor,
            starts_at=a.starts_at,
            location=office,
            nonce=uuid.uuid4(),
            token_hash=uuid.uuid4().hex,
            expires_at=a.starts_at,
            appointment=a,
        )

    return {
        f.__name__: f
        for f in (
            rename_patient,
            rename_doctor,
            rename_room,
            status,
            notes,
            other_doctor_takes_it,
            moved_away,
            another_booked,
            deleted,
            booked_online,
        )
    }


CHANGES = [
    "rename_patient",
    "rename_doctor",
    "rename_room",
    "status",
    "notes",
    "other_doctor_takes_it",
    "moved_away",
    "another_booked",
    "deleted",
    "booked_online",
]


@pytest.mark.parametrize("change", CHANGES)
def test_every_change_to_what_a_card_reads_makes_a_new_fingerprint(
    change, hours, doctor, other_doctor
):
    first = visit(hours, doctor, 9)
    visit(hours, doctor, 10)
    before = fingerprint(monday_rows())
    changes(hours, doctor, other_doctor)[change](first)
    assert fingerprint(monday_rows()) != before


def test_a_row_changed_twice_in_one_transaction_makes_a_new_fingerprint_each_time(hours, doctor):
    """Within one transaction every row has the same xmin: the row version's place (ctid)
    still tells the versions apart."""
    from django.db import transaction

    first = visit(hours, doctor, 9)
    with transaction.atomic():
        seen = {fingerprint(monday_rows())}
        for n in range(3):
            Appointment.objects.filter(pk=first.pk).update(notes=f"note {n}")
            seen.add(fingerprint(monday_rows()))
    assert len(seen) == 4


def test_nothing_changed_or_a_change_elsewhere_keeps_the_fingerprint(hours, doctor):
    visit(hours, doctor, 9)
    tuesday = visit(hours, doctor, 10)
    Appointment.objects.filter(pk=tuesday.pk).update(
        starts_at=tuesday.starts_at + timedelta(days=1), ends_at=tuesday.ends_at + timedelta(1)
    )
    before = fingerprint(monday_rows())
    assert fingerprint(monday_rows()) == before
    Appointment.objects.filter(pk=tuesday.pk).update(notes="Another day's visit")
    PatientFactory()
    assert fingerprint(monday_rows()) == before


def test_the_fingerprint_covers_the_same_rows_as_the_cards(hours, doctor, other_office):
    """Cancelled, at another office, just outside the day: what the cards leave out, the
    fingerprint does too (its condition is the cards' own, as the ORM writes it)."""
    kept = visit(hours, doctor, 9)
    cancelled = visit(hours, doctor, 10, status=Status.CANCELLED)
    elsewhere = visit(other_office, doctor, 11)
    rows = monday_rows(location=hours).not_cancelled()
    before = fingerprint(rows)
    Appointment.objects.filter(pk=cancelled.pk).update(notes="still cancelled")
    Appointment.objects.filter(pk=elsewhere.pk).update(notes="still elsewhere")
    assert fingerprint(rows) == before
    Appointment.objects.filter(pk=kept.pk).update(notes="shown")
    assert fingerprint(rows) != before


def test_a_query_through_a_join_is_not_fingerprinted(hours, doctor):
    visit(hours, doctor, 9)
    assert fingerprint(monday_rows(patient__legal_last_name="X")) is None


def test_every_relation_the_cards_read_is_in_the_fingerprint():
    read_beside = {field.split("__")[0] for field in selectors.CARD_FIELDS if "__" in field}
    assert read_beside <= set(card_cache.FINGERPRINTED)


@pytest.fixture
def other_office(db):
    from scheduling.models import Location

    office = Location.objects.create(name="Second office", time_zone=TZ.key)
    Room.objects.create(location=office, name="Room 1")
    return office


def day_page(client, **params) -> str:
    return client.get(reverse("scheduling:day"), params).content.decode()


@committing
def test_the_day_and_week_views_show_a_change_on_the_next_page(
    client, now, hours, doctor, front_desk
):
    client.force_login(front_desk)
    shown = visit(hours, doctor, 9, patient=PatientFactory(legal_last_name="Before"))
    assert "Before" in day_page(client)
    week = reverse("scheduling:week")
    assert "Before" in client.get(week).content.decode()
    shown.patient.legal_last_name = "After"
    shown.patient.save(update_fields=["legal_last_name"])
    page = day_page(client)
    assert "After" in page and "Before" not in page
    page = client.get(week).content.decode()
    assert "After" in page and "Before" not in page


def test_cards_are_written_once_while_nothing_changes(
    client, now, hours, doctor, front_desk, monkeypatch
):
    written = []
    write = selectors._write_cards
    monkeypatch.setattr(selectors, "_write_cards", lambda *a: written.append(1) or write(*a))
    client.force_login(front_desk)
    visit(hours, doctor, 9)
    first, second = day_page(client), day_page(client)
    assert len(written) == 1
    assert normalised(first) == normalised(second)
    visit(hours, doctor, 10)
    day_page(client)
    assert len(written) == 2


def normalised(page: str) -> str:
    import re

    page = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", page)
    page = re.sub(r'name="form_token" value="[^"]*"', "", page)  # a button's one-time token
    page = re.sub(r'nonce="[^"]*"', "", page)
    return re.sub(r'data-session-left="[^"]*"', "", page)


def test_cards_kept_in_english_are_not_shown_in_spanish(client, now, hours, doctor, front_desk):
    client.force_login(front_desk)
    visit(hours, doctor, 9)
    assert "Consultation" in day_page(client)
    client.cookies["django_language"] = "es"
    page = day_page(client)
    with translation.override("es"):
        spanish = str(Kind.CONSULTATION.label)
    assert spanish != "Consultation" and spanish in page


def test_a_day_kept_before_it_came_gets_its_buttons_on_the_day(client, hours, doctor, front_desk):
    """Cards of a day ahead have no check-in buttons; on the day they have."""
    visit(hours, doctor, 9)
    with time_machine.travel(at(MONDAY, 7) - timedelta(days=3), tick=False):
        client.force_login(front_desk)
        assert 'name="status"' not in day_page(client, date=MONDAY.isoformat())
    with time_machine.travel(at(MONDAY, 7), tick=False):
        client.force_login(front_desk)
        assert 'name="status"' in day_page(client, date=MONDAY.isoformat())


def test_the_day_view_works_and_stays_right_when_the_cache_does_not_answer(
    client, now, hours, doctor, front_desk
):
    client.force_login(front_desk)
    shown = visit(hours, doctor, 9, patient=PatientFactory(legal_last_name="Before"))
    with override_settings(CACHES=CACHE_DOWN):
        assert "Before" in day_page(client)
        assert kept._paused_until > 0  # the next pages don't try for a while
        Appointment.objects.filter(pk=shown.pk).update(notes="Seen without the cache")
        assert "Seen without the cache" in day_page(client)


def test_two_databases_holding_the_same_rows_keep_their_own_cards(hours, doctor, kept_keys):
    """A copy of a database (CREATE DATABASE ... TEMPLATE) has the same row versions: the
    database's name is in the key, and so is the day it is (the buttons depend on it)."""
    from scheduling import day_page, week_page

    keys = kept_keys
    visit(hours, doctor, 9)
    day_page.page(MONDAY, TZ, by_room=False, office=None)
    week_page.page(MONDAY, TZ, office=None, office_query="")
    assert len(keys) == 2
    for key in keys:
        assert connection.settings_dict["NAME"] in key
        assert timezone.localdate(timezone.now(), TZ).isoformat() in key


@committing
def test_the_weeks_cells_are_written_once_while_nothing_changes(
    client, now, hours, doctor, front_desk, monkeypatch
):
    from scheduling import day_cards

    written = []
    write_week = day_cards.write_week
    monkeypatch.setattr(day_cards, "write_week", lambda rows: written.append(1) or write_week(rows))
    client.force_login(front_desk)
    visit(hours, doctor, 9, patient=PatientFactory(legal_last_name="Kept"))
    week = reverse("scheduling:week")
    first, second = client.get(week).content.decode(), client.get(week).content.decode()
    assert len(written) == 1 and "Kept" in first
    assert normalised(first) == normalised(second)
    visit(hours, doctor, 10, patient=PatientFactory(legal_last_name="Added"))
    assert "Added" in client.get(week).content.decode()
    assert len(written) == 2


def test_a_change_to_a_cards_plan_makes_a_new_fingerprint(hours, doctor):
    """A session's card says which of how many sessions it is: the plan's row is read."""
    from tests.treatments.conftest import complete_screening, make_plan
    from treatments.models import TreatmentPlan

    patient = PatientFactory()
    complete_screening(patient)
    plan = make_plan(patient, doctor)
    visit(hours, doctor, 9, patient=patient, kind=Kind.SESSION, plan=plan, session_number=1)
    before = fingerprint(monday_rows())
    TreatmentPlan.objects.filter(pk=plan.pk).update(sessions_planned=6)
    assert fingerprint(monday_rows()) != before
