"""The times the portal's move page offers, kept under a fingerprint of every row the search
reads (scheduling.free_times_cache.kept_move_options, issue 19): each change to one of them
shows on the next page, whoever made it and however, exactly as times worked out afresh; times
asked again with nothing changed are not worked out again; the clock passing a time found, or
the notice period reaching a time offered, gives the times worked out afresh; a cache that does
not answer changes nothing."""

import pickle
from datetime import time, timedelta

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from goodskin.roles import Role
from scheduling import services
from scheduling.models import (
    Appointment,
    ClosedDay,
    Kind,
    Room,
    SchedulingSettings,
    Status,
    TimeOff,
    WorkingHours,
)
from scheduling.services import patient_changes
from tests.conftest import CACHE_DOWN, written_afresh
from tests.factories import PatientFactory, UserFactory, screen
from tests.portal.test_schedule import book
from tests.scheduling.conftest import MONDAY, TZ, at, three_sessions

committing = pytest.mark.django_db(transaction=True)  # as production runs
MINUTE = timedelta(minutes=1)


@pytest.fixture
def me(patient):
    record = PatientFactory(portal_user=patient, legal_last_name="Quintana")
    screen(record, sclerosant_allergy="no", untreated_varicose="no")
    return record


@pytest.fixture
def visit(now, hours, front_desk, doctor, me) -> Appointment:
    return book(front_desk, me, doctor, at(MONDAY + timedelta(days=3), 10))


def put(doctor, room, starts_at, patient=None) -> Appointment:
    """A visit written straight to the table, as some write path might."""
    return Appointment.objects.create(
        patient=patient or PatientFactory(),
        doctor=doctor,
        location=room.location,
        room=room,
        kind=Kind.REVIEW,
        starts_at=starts_at,
        ends_at=starts_at + 30 * MINUTE,
    )


def offered(visit) -> list[tuple]:
    """The times offered for `visit`, read as the move page reads it."""
    again = Appointment.objects.select_related("doctor", "location", "plan", "patient").get(
        pk=visit.pk
    )
    return [
        (s.starts_at, s.room.pk, s.doctor.get_full_name(), s.location.pk)
        for s in services.patient_move_options(again)
    ]


def worked_out(visit) -> list[tuple]:
    with written_afresh():
        return offered(visit)


def first_day(times) -> object:
    return times[0][0].astimezone(TZ).date()


def changes(visit, doctor, other_doctor, front_desk, day, eleven):
    """Each a change to one thing the search reads, made as some write path might; each changes
    the times offered on `day`, the first day offered."""
    office = visit.location
    rooms = list(Room.objects.filter(location=office))
    first_time = at(day, 8)

    def other_doctors_take_every_room():  # the rooms are shared: not only the doctor's visits
        for n, room in enumerate(rooms):
            put(UserFactory(username=f"dr.room{n}", role=Role.DOCTOR), room, first_time)

    def booked():
        book(front_desk, PatientFactory(), doctor, first_time)

    def cancelled():
        Appointment.objects.filter(pk=eleven.pk).update(status=Status.CANCELLED)

    def moved():
        Appointment.objects.filter(pk=eleven.pk).update(
            starts_at=at(day, 8), ends_at=at(day, 8) + 15 * MINUTE
        )

    def deleted():
        Appointment.objects.filter(pk=eleven.pk).delete()

    def the_patients_own_visit_elsewhere():
        put(other_doctor, rooms[1], first_time, patient=visit.patient)

    def time_off():
        TimeOff.objects.create(doctor=doctor, starts_at=at(day, 8), ends_at=at(day, 12))

    def shorter_hours():
        WorkingHours.objects.filter(doctor=doctor, weekday=day.weekday()).update(ends=time(12))

    def rooms_out_of_use():
        Room.objects.filter(location=office).update(active=False)

    def closed_day():
        ClosedDay.objects.create(day=day, location=office, reason="Staff training")

    def clinic_settings():  # the steps between the times looked at
        SchedulingSettings.objects.update(slot_step_minutes=60)

    def doctor_renamed():
        doctor.first_name = "Renamed"
        doctor.save(update_fields=["first_name"])

    def the_visit_itself_longer():
        Appointment.objects.filter(pk=visit.pk).update(ends_at=visit.ends_at + 3 * 60 * MINUTE)

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
            clinic_settings,
            doctor_renamed,
            the_visit_itself_longer,
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
    "clinic_settings",
    "doctor_renamed",
    "the_visit_itself_longer",
]


@committing
@pytest.mark.parametrize("change", CHANGES)
def test_every_change_to_what_the_search_reads_shows_on_the_next_page(
    visit, doctor, other_doctor, front_desk, change
):
    day = first_day(offered(visit))
    eleven = put(doctor, Room.objects.filter(location=visit.location).first(), at(day, 11))
    before = offered(visit)
    assert offered(visit) == before  # kept
    changes(visit, doctor, other_doctor, front_desk, day, eleven)[change]()
    after = offered(visit)
    assert after != before
    assert after == worked_out(visit)


@committing
def test_a_change_to_another_session_of_the_plan_shows_on_the_next_page(
    now, hours, front_desk, doctor, me
):
    """The middle session keeps the plan's interval to the one after it: moved earlier, the
    last days the middle one may move to go."""
    _first, second, third = three_sessions(me, doctor, front_desk)
    before = offered(second)
    assert before
    Appointment.objects.filter(pk=third.pk).update(
        starts_at=third.starts_at - timedelta(days=4), ends_at=third.ends_at - timedelta(days=4)
    )
    after = offered(second)
    assert after != before
    assert after == worked_out(second)


@pytest.mark.django_db
def test_times_asked_again_with_nothing_changed_are_not_worked_out_again(visit, monkeypatch):
    searches = []
    search = patient_changes.free_slots
    monkeypatch.setattr(
        patient_changes, "free_slots", lambda **kw: searches.append(1) or search(**kw)
    )
    first = offered(visit)
    looked = len(searches)
    assert looked and offered(visit) == first
    assert len(searches) == looked


@pytest.mark.django_db
def test_the_times_change_when_the_notice_period_reaches_one_offered(visit, now):
    times = offered(visit)
    notice = timedelta(hours=SchedulingSettings.current().patient_notice_hours)
    first = times[0][0]
    now.move_to(first - notice - MINUTE)
    assert offered(visit) == times  # kept: nothing offered has come within the notice
    now.move_to(first - notice)
    later = offered(visit)
    assert first not in [t[0] for t in later]
    assert later == worked_out(visit)


@pytest.mark.django_db
def test_a_kept_move_page_reads_no_calendar_and_few_queries(client, visit, patient):
    client.force_login(patient)
    page = reverse("portal:move", args=[visit.pk])
    assert client.get(page).status_code == 200  # worked out and kept
    with CaptureQueriesContext(connection) as kept:
        response = client.get(page)
    assert response.status_code == 200 and response.context["form"].fields["starts_at"].choices
    sql = " ".join(q["sql"] for q in kept.captured_queries)
    assert '"scheduling_workinghours"' not in sql and '"scheduling_room"' not in sql
    assert len(kept.captured_queries) <= 9, [q["sql"][:80] for q in kept.captured_queries]


@pytest.mark.django_db
def test_the_page_works_and_stays_right_when_the_cache_does_not_answer(
    client, visit, patient, doctor, front_desk
):
    client.force_login(patient)
    page = reverse("portal:move", args=[visit.pk])
    with override_settings(CACHES=CACHE_DOWN):
        before = client.get(page).context["form"].fields["starts_at"].choices
        day = first_day(offered(visit))
        ClosedDay.objects.create(day=day, location=visit.location, reason="Staff training")
        after = client.get(page).context["form"].fields["starts_at"].choices
    assert before and before != after


@committing
def test_a_change_to_the_visit_itself_shows_on_the_next_page(now, hours, front_desk, doctor, me):
    """A visit eight weeks ahead, outside the four weeks it may move to: made longer, it fits
    fewer of the times between others."""
    far = book(front_desk, me, doctor, at(MONDAY + timedelta(weeks=8), 10))
    day = first_day(offered(far))
    put(doctor, Room.objects.filter(location=far.location).first(), at(day, 11))
    before = offered(far)
    Appointment.objects.filter(pk=far.pk).update(ends_at=far.ends_at + 2 * 60 * MINUTE)
    after = offered(far)
    assert after != before
    assert after == worked_out(far)


@committing
def test_kept_times_are_worked_out_from_rows_read_after_the_fingerprint(visit):
    """The visit as the page read it may be older than the fingerprint read after it: the
    times kept under the fingerprint are worked out from the rows as they are then."""
    stale = Appointment.objects.select_related("doctor", "location", "plan", "patient").get(
        pk=visit.pk
    )
    day = first_day(offered(visit))
    put(visit.doctor, Room.objects.filter(location=visit.location).first(), at(day, 11))
    Appointment.objects.filter(pk=visit.pk).update(ends_at=visit.ends_at + 2 * 60 * MINUTE)
    services.patient_move_options(stale)  # kept under the new rows' fingerprint
    assert offered(visit) == worked_out(visit)


@pytest.mark.django_db
def test_the_times_are_kept_without_the_doctors_user_row(visit, doctor, monkeypatch):
    """Redis holds no password hash: the doctor is put back from the visit on reading."""
    from goodskin import kept

    written, cache = [], kept.cache

    class Spy:
        def get(self, key):
            return cache.get(key)

        def set(self, key, value, timeout):
            written.append(value)
            cache.set(key, value, timeout)

    monkeypatch.setattr(kept, "cache", Spy())
    times = services.patient_move_options(visit)
    assert times and all(slot.doctor == doctor for slot in times)
    (value,) = written
    assert value.options and all(slot.doctor is None for slot in value.options)
    assert doctor.password.encode() not in pickle.dumps(value)
    assert services.patient_move_options(visit) == times  # read back, the doctor put back
