"""The free-time page's results kept under a fingerprint of every row the search reads
(scheduling.free_times_cache): each change to one of them shows on the next search, whoever
made it and however, exactly as a search worked out afresh shows it; a search asked again with
nothing changed is not worked out again; the clock passing a kept free time, a cache that does
not answer, another language each get the right page."""

from datetime import time, timedelta

import pytest
import time_machine
from django.test import override_settings
from django.urls import reverse

from goodskin import kept
from goodskin.roles import Role
from scheduling import free_times_cache, views
from scheduling.models import (
    Appointment,
    ClosedDay,
    Kind,
    Location,
    Room,
    SchedulingSettings,
    Status,
    TimeOff,
    WorkingHours,
)
from tests.conftest import CACHE_DOWN, written_afresh
from tests.factories import PatientFactory, UserFactory
from tests.treatments.conftest import make_plan

from .conftest import MONDAY, at

SLOTS = reverse("scheduling:slots")
MINUTE = timedelta(minutes=1)
# As production runs: each write committed before the next search.
committing = pytest.mark.django_db(transaction=True)


def visit(doctor, room, hour, patient=None, **fields) -> Appointment:
    return Appointment.objects.create(
        patient=patient or PatientFactory(),
        doctor=doctor,
        location=room.location,
        room=room,
        kind=fields.pop("kind", Kind.CONSULTATION),
        starts_at=at(MONDAY, hour),
        ends_at=at(MONDAY, hour) + 20 * MINUTE,
        **fields,
    )


def results(client, patient, doctor, kind=Kind.CONSULTATION) -> str:
    """The page's results for one doctor's Monday, booking for `patient`."""
    query = {"kind": kind, "doctor": doctor.pk, "first_day": MONDAY, "last_day": MONDAY}
    response = client.get(SLOTS, query | {"patient": patient.pk})
    assert response.status_code == 200
    return str(response.context["results"])


def worked_out(client, patient, doctor, kind=Kind.CONSULTATION) -> str:
    """The same search worked out afresh, as without the cache."""
    with written_afresh():
        return results(client, patient, doctor, kind)


@pytest.fixture
def desk_and_patient(client, front_desk):
    client.force_login(front_desk)
    return PatientFactory(legal_last_name="Booking")


def changes(office, doctor, other_doctor, patient, eleven):
    """Each a change to one thing the search reads, made the way some write path might; each
    changes the doctor's free Monday."""
    rooms = list(Room.objects.filter(location=office))

    def other_doctors_take_every_room():  # the rooms are shared: not only the doctor's visits
        for n, room in enumerate(rooms):
            visit(UserFactory(username=f"dr.room{n}", role=Role.DOCTOR), room, 9)

    def booked():
        visit(doctor, rooms[0], 10)

    def cancelled():
        Appointment.objects.filter(pk=eleven.pk).update(status=Status.CANCELLED)

    def moved():
        Appointment.objects.filter(pk=eleven.pk).update(
            starts_at=at(MONDAY, 15), ends_at=at(MONDAY, 15) + 20 * MINUTE
        )

    def deleted():
        Appointment.objects.filter(pk=eleven.pk).delete()

    def the_patients_own_visit_elsewhere():
        visit(other_doctor, rooms[1], 14, patient=patient)

    def time_off():
        TimeOff.objects.create(doctor=doctor, starts_at=at(MONDAY, 13), ends_at=at(MONDAY, 14))

    def shorter_hours():
        WorkingHours.objects.filter(doctor=doctor, weekday=MONDAY.weekday()).update(ends=time(12))

    def rooms_out_of_use():
        Room.objects.filter(location=office).update(active=False)

    def closed_day():
        ClosedDay.objects.create(day=MONDAY, location=office, reason="Staff training")

    def longer_consultations():
        SchedulingSettings.objects.update(consultation_minutes=60)

    def office_offers_no_consultation():
        Location.objects.filter(pk=office.pk).update(kinds=[Kind.REVIEW])

    def doctor_renamed():
        doctor.first_name = "Renamed"
        doctor.save(update_fields=["first_name"])

    return {
        f.__name__: f
        for f in (
            other_doctors_take_every_room,
            booked,
            cancelled,
            moved,
            deleted,
            the_patients_own_visit_elsewhere,
            time_off,
            shorter_hours,
            rooms_out_of_use,
            closed_day,
            longer_consultations,
            office_offers_no_consultation,
            doctor_renamed,
        )
    }


CHANGES = [
    "other_doctors_take_every_room",
    "booked",
    "cancelled",
    "moved",
    "deleted",
    "the_patients_own_visit_elsewhere",
    "time_off",
    "shorter_hours",
    "rooms_out_of_use",
    "closed_day",
    "longer_consultations",
    "office_offers_no_consultation",
    "doctor_renamed",
]


@committing
@pytest.mark.parametrize("change", CHANGES)
def test_every_change_to_what_the_search_reads_shows_on_the_next_search(
    client, now, hours, doctor, other_doctor, desk_and_patient, change
):
    patient = desk_and_patient
    eleven = visit(doctor, Room.objects.filter(location=hours).first(), 11)
    before = results(client, patient, doctor)
    assert results(client, patient, doctor) == before  # kept
    changes(hours, doctor, other_doctor, patient, eleven)[change]()
    after = results(client, patient, doctor)
    assert after != before
    assert after == worked_out(client, patient, doctor)


@committing
def test_a_plans_session_length_shows_on_the_next_search(
    client, now, hours, doctor, desk_and_patient
):
    patient = desk_and_patient
    plan = make_plan(patient, doctor)
    before = results(client, patient, doctor, Kind.SESSION)
    assert "Book" in before
    type(plan).objects.filter(pk=plan.pk).update(session_minutes=plan.session_minutes + 60)
    after = results(client, patient, doctor, Kind.SESSION)
    assert after != before
    assert after == worked_out(client, patient, doctor, Kind.SESSION)


def test_a_search_asked_again_with_nothing_changed_is_not_worked_out_again(
    client, now, hours, doctor, desk_and_patient, monkeypatch
):
    patient = desk_and_patient
    searches = []
    free_days = views._free_days
    monkeypatch.setattr(views, "_free_days", lambda *a: searches.append(1) or free_days(*a))
    first = results(client, patient, doctor)
    assert results(client, patient, doctor) == first
    assert len(searches) == 1
    # Another patient, kind or office is another search.
    results(client, PatientFactory(), doctor)
    results(client, patient, doctor, Kind.REVIEW)
    assert len(searches) == 3


def test_a_kept_free_time_the_clock_has_passed_is_not_offered(
    client, now, hours, doctor, front_desk, desk_and_patient, monkeypatch
):
    patient = desk_and_patient
    searches = []
    free_days = views._free_days
    monkeypatch.setattr(views, "_free_days", lambda *a: searches.append(1) or free_days(*a))
    first = results(client, patient, doctor)
    assert "time=08%3A00" in first
    now.move_to(at(MONDAY, 7, 59))  # before the first free time: still kept
    client.force_login(front_desk)  # (an hour idle logs out)
    assert results(client, patient, doctor) == first
    assert len(searches) == 1
    now.move_to(at(MONDAY, 8, 1))
    client.force_login(front_desk)
    later = results(client, patient, doctor)
    assert len(searches) == 2
    assert "time=08%3A00" not in later
    assert later == worked_out(client, patient, doctor)


def test_kept_results_in_english_are_not_shown_in_spanish(
    client, now, hours, doctor, desk_and_patient
):
    patient = desk_and_patient
    assert "First free time" in results(client, patient, doctor)
    client.cookies["django_language"] = "es"
    assert "First free time" not in results(client, patient, doctor)


def test_the_page_works_and_stays_right_when_the_cache_does_not_answer(
    client, now, hours, doctor, desk_and_patient
):
    patient = desk_and_patient
    room = Room.objects.filter(location=hours).first()
    with override_settings(CACHES=CACHE_DOWN):
        before = results(client, patient, doctor)
        assert kept._paused_until > 0  # the next pages don't try for a while
        Room.objects.exclude(pk=room.pk).update(active=False)
        visit(doctor, room, 8)
        after = results(client, patient, doctor)
    assert "time=08%3A00" in before and "time=08%3A00" not in after


def test_a_day_with_no_free_time_says_so_from_the_cache_too(
    client, now, hours, doctor, front_desk, desk_and_patient
):
    patient = desk_and_patient
    ClosedDay.objects.create(day=MONDAY, location=hours, reason="Staff training")
    first = results(client, patient, doctor)
    assert "No free time in these days" in first
    with time_machine.travel(at(MONDAY, 16), tick=False):
        client.force_login(front_desk)
        assert results(client, patient, doctor) == first


def test_the_key_holds_the_database_the_day_and_the_search(hours, doctor, kept_keys):
    keys = kept_keys
    free_times_cache.kept(
        first_day=MONDAY,
        last_day=MONDAY,
        doctor_ids=[doctor.pk],
        plan_id=None,
        parts=("consultation", "today"),
        write=lambda: free_times_cache.Kept("", None),
    )
    from django.db import connection

    assert len(keys) == 1
    for part in (connection.settings_dict["NAME"], "consultation", "today", MONDAY.isoformat()):
        assert part in keys[0]
