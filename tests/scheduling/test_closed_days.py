"""Closed days (holidays, closures): the rule, and every path that offers or books a time.

The clock is frozen on Monday 2026-11-30; New Year's Day 2027 is the Friday five weeks on."""

import io
from collections import defaultdict
from datetime import date, time, timedelta
from types import SimpleNamespace

import holidays
import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from goodskin.actors import Actor
from goodskin.roles import Role
from patients.models import Patient
from scheduling import rules, selectors, services
from scheduling.models import (
    Appointment,
    AppointmentChange,
    ChangeAction,
    ClosedDay,
    Kind,
    Location,
    Room,
)
from scheduling.rules import Reason
from scheduling.slots import Calendar, Timeline, free_slots
from tests.factories import PatientFactory, UserFactory, screen
from tests.scheduling.conftest import MONDAY, TZ, at, desk_actor
from tests.treatments.conftest import make_plan

NEW_YEAR = date(2027, 1, 1)  # a Friday
NEW_YEAR_EVE, NEXT_MONDAY = NEW_YEAR - timedelta(days=1), NEW_YEAR + timedelta(days=3)
CLOSED_MESSAGE = "The clinic is closed on Friday, January 1, 2027."


@pytest.fixture
def record(db):
    patient = PatientFactory(legal_first_name="Ana", legal_last_name="Silva")
    screen(patient, sclerosant_allergy="no", untreated_varicose="no")
    return patient


@pytest.fixture
def new_year(office):
    return ClosedDay.objects.create(day=NEW_YEAR, reason="New Year's Day")


def days_of(slots) -> set[date]:
    return {s.starts_at.astimezone(TZ).date() for s in slots}


# --- The rule -------------------------------------------------------------------------------


def hand_calendar(closed=frozenset()) -> Calendar:
    cal = Calendar(
        location=Location(name="Office", time_zone=TZ.key),
        buffer=timedelta(minutes=5),
        hours=defaultdict(lambda: defaultdict(list)),
        doctor_busy={1: Timeline()},
        room_busy={11: Timeline()},
        rooms=[Room(pk=11, name="Room 1")],
        closed=frozenset(closed),
    )
    for weekday in range(5):
        cal.hours[1][weekday].append((time(8), time(17)))
    return cal


def judge(cal, starts_at, **facts):
    facts = {"patient": SimpleNamespace(pk=7, merged_into_id=None), "now": at(MONDAY, 7), **facts}
    problem = rules.refusal(
        cal, doctor_id=1, starts_at=starts_at, ends_at=starts_at + timedelta(minutes=20), **facts
    )
    return problem and problem.reason


def test_the_rule_refuses_a_closed_clinic_day_unless_staff_book_it_anyway():
    cal = hand_calendar({NEW_YEAR})
    assert str(rules.clinic_open(cal, NEW_YEAR)) == CLOSED_MESSAGE
    assert rules.clinic_open(cal, NEW_YEAR_EVE) is None
    assert judge(cal, at(NEW_YEAR, 9)) == Reason.CLOSED
    assert judge(cal, at(NEW_YEAR, 9), open_anyway=True) is None
    assert judge(cal, at(NEW_YEAR_EVE, 9)) is None
    # The override lifts the closed day only: the doctor's hours still hold.
    assert judge(cal, at(NEW_YEAR, 18), open_anyway=True) == Reason.HOURS


def test_the_rule_takes_the_clinic_local_day_not_the_utc_one():
    cal = hand_calendar({NEW_YEAR})
    # 16:30 on New Year's Eve in Oregon is already January 1st in UTC.
    assert judge(cal, at(NEW_YEAR_EVE, 16, 30)) is None
    assert judge(cal, at(NEW_YEAR, 8)) == Reason.CLOSED


def test_the_search_offers_nothing_on_a_closed_day():
    length, step = 20 * 60, 15 * 60
    closed, open_ = hand_calendar({NEW_YEAR}), hand_calendar()
    assert list(rules.free_starts(closed, 1, NEW_YEAR, length, step, 0)) == []
    assert list(rules.free_starts(open_, 1, NEW_YEAR, length, step, 0))


# --- What is offered ------------------------------------------------------------------------


def search(doctor, office, first_day, last_day):
    return free_slots(
        doctor_ids=[doctor.pk],
        location=office,
        first_day=first_day,
        last_day=last_day,
        minutes=30,
        step_minutes=15,
        buffer_minutes=5,
    )


def test_free_times_skip_new_years_day_when_it_is_closed(now, hours, doctor):
    assert NEW_YEAR in days_of(search(doctor, hours, NEW_YEAR_EVE, NEXT_MONDAY))
    ClosedDay.objects.create(day=NEW_YEAR, reason="New Year's Day")
    days = days_of(search(doctor, hours, NEW_YEAR_EVE, NEXT_MONDAY))
    assert days == {NEW_YEAR_EVE, NEXT_MONDAY}


def test_a_day_closed_at_another_location_is_still_offered_here(now, hours, doctor):
    elsewhere = Location.objects.create(name="Salem office", time_zone=TZ.key)
    ClosedDay.objects.create(day=NEW_YEAR, location=elsewhere)
    assert NEW_YEAR in days_of(search(doctor, hours, NEW_YEAR, NEW_YEAR))
    ClosedDay.objects.create(day=NEW_YEAR, location=hours)
    assert days_of(search(doctor, hours, NEW_YEAR, NEW_YEAR)) == set()


def test_a_series_proposal_skips_new_years_day(now, hours, doctor, record):
    plan = make_plan(record, doctor, sessions=2)
    first = services.propose_series(plan=plan, earliest=NEW_YEAR)[0]
    assert first.starts_at == at(NEW_YEAR, 8)
    ClosedDay.objects.create(day=NEW_YEAR)
    first = services.propose_series(plan=plan, earliest=NEW_YEAR)[0]
    assert first.starts_at == at(NEXT_MONDAY, 8)


@pytest.fixture
def second_session(now, hours, front_desk, doctor, patient, record):
    """Session 2 of a plan whose session 1 is four weeks before New Year's Day: the first day
    it may move to is January 1st. The patient has the portal."""
    Patient.objects.filter(pk=record.pk).update(portal_user=patient)
    plan = make_plan(record, doctor, sessions=2)
    booked = services.book_series(
        plan=plan,
        by=desk_actor(front_desk),
        starts={1: at(NEW_YEAR - timedelta(weeks=4), 9), 2: at(NEW_YEAR + timedelta(days=10), 9)},
    )
    return Appointment.objects.select_related("patient", "plan", "location").get(pk=booked[1].pk)


def test_a_patients_move_options_skip_new_years_day(second_session):
    assert min(days_of(services.patient_move_options(second_session))) == NEW_YEAR
    ClosedDay.objects.create(day=NEW_YEAR)
    options = services.patient_move_options(second_session)
    assert NEW_YEAR not in days_of(options)
    assert min(days_of(options)) == NEXT_MONDAY


def test_a_patient_cannot_move_onto_a_closed_day(second_session, patient, new_year):
    by = Actor(user=patient, role=Role.PATIENT)
    with pytest.raises(services.BookingError) as refused:
        services.patient_move(appointment=second_session, starts_at=at(NEW_YEAR, 10), by=by)
    assert str(refused.value) == CLOSED_MESSAGE


def test_the_portal_does_not_move_onto_a_closed_day_even_when_posted(
    client, second_session, patient, new_year
):
    client.force_login(patient)
    url = reverse("portal:move", args=[second_session.pk])
    data = {"starts_at": at(NEW_YEAR, 10).isoformat(), "version": second_session.version}
    response = client.post(url, {**data, "open_anyway": "on"})
    assert response.status_code == 200
    second_session.refresh_from_db()
    assert second_session.starts_at == at(NEW_YEAR + timedelta(days=10), 9)


# --- Staff booking, with and without the override -------------------------------------------


def test_staff_booking_on_a_closed_day_is_refused_without_the_override(
    now, hours, front_desk, doctor, record, new_year
):
    with pytest.raises(services.BookingError) as refused:
        services.book_appointment(
            patient=record,
            doctor=doctor,
            kind=Kind.CONSULTATION,
            starts_at=at(NEW_YEAR, 9),
            by=desk_actor(front_desk),
        )
    assert str(refused.value) == CLOSED_MESSAGE
    assert not Appointment.objects.exists()


def post_booking(client, patient, doctor, **fields):
    data = {"kind": "consultation", "doctor": doctor.pk, "date": "2027-01-01", "time": "09:00"}
    return client.post(reverse("scheduling:book", args=[patient.pk]), {**data, **fields})


def test_the_booking_page_refuses_a_closed_day_then_books_it_with_the_box_ticked(
    client, now, hours, front_desk, doctor, record, new_year
):
    client.force_login(front_desk)
    refused = post_booking(client, record, doctor)
    assert refused.status_code == 200
    assert CLOSED_MESSAGE in refused.content.decode()
    assert "Book although the clinic is closed" in refused.content.decode()
    assert not Appointment.objects.exists()
    booked = post_booking(client, record, doctor, open_anyway="on")
    appointment = Appointment.objects.get()
    assert booked.url == reverse("scheduling:appointment", args=[appointment.pk])
    change = appointment.changes.get()
    assert change.action == ChangeAction.BOOKED and change.by == front_desk
    assert change.after["closed_override"] is True
    page = client.get(booked.url).content.decode()
    assert "although the clinic was closed" in page


def test_the_box_ticked_on_an_open_day_records_no_override(
    now, hours, front_desk, doctor, record, new_year
):
    appointment = services.book_appointment(
        patient=record,
        doctor=doctor,
        kind=Kind.CONSULTATION,
        starts_at=at(NEW_YEAR_EVE, 9),
        open_anyway=True,
        by=desk_actor(front_desk),
    )
    assert "closed_override" not in appointment.changes.get().after


def test_a_series_on_a_closed_day_books_only_with_the_override_and_records_that_session(
    client, now, hours, front_desk, doctor, record, new_year
):
    plan = make_plan(record, doctor, sessions=2)
    starts = {1: at(MONDAY + timedelta(days=1), 9), 2: at(NEW_YEAR, 9)}
    desk = desk_actor(front_desk)
    assert selectors.series_problems(plan, starts) == {2: CLOSED_MESSAGE}
    assert selectors.series_problems(plan, starts, open_anyway=True) == {}
    with pytest.raises(services.BookingError) as refused:
        services.book_series(plan=plan, starts=starts, by=desk)
    assert str(refused.value) == f"Session 2: {CLOSED_MESSAGE} Nothing was booked."
    assert not plan.appointments.exists()
    booked = services.book_series(plan=plan, starts=starts, by=desk, open_anyway=True)
    overridden = {a.session_number: a.changes.get().after.get("closed_override") for a in booked}
    assert overridden == {1: None, 2: True}


def test_the_series_page_books_a_closed_day_with_the_box_ticked(
    client, now, hours, front_desk, doctor, record, new_year
):
    plan = make_plan(record, doctor, sessions=2)
    client.force_login(front_desk)
    url = reverse("scheduling:book_series", args=[plan.pk])
    data = {"date_1": "2027-01-01", "time_1": "09:00", "date_2": "", "time_2": "", "action": "book"}
    refused = client.post(url, data)
    assert refused.status_code == 200 and CLOSED_MESSAGE in refused.content.decode()
    assert client.post(url, {**data, "open_anyway": "on"}).status_code == 302
    assert plan.appointments.get().starts_at == at(NEW_YEAR, 9)


def test_a_staff_move_onto_a_closed_day_needs_the_box_and_is_recorded(
    client, now, hours, front_desk, doctor, record, new_year
):
    appointment = services.book_appointment(
        patient=record,
        doctor=doctor,
        kind=Kind.CONSULTATION,
        starts_at=at(NEW_YEAR_EVE, 9),
        by=desk_actor(front_desk),
    )
    client.force_login(front_desk)
    url = reverse("scheduling:move", args=[appointment.pk])
    data = {"date": "2027-01-01", "time": "10:00", "version": appointment.version}
    refused = client.post(url, data)
    assert refused.status_code == 200 and CLOSED_MESSAGE in refused.content.decode()
    appointment.refresh_from_db()
    assert appointment.starts_at == at(NEW_YEAR_EVE, 9)
    assert client.post(url, {**data, "open_anyway": "on"}).status_code == 302
    appointment.refresh_from_db()
    assert appointment.starts_at == at(NEW_YEAR, 10)
    move = AppointmentChange.objects.get(appointment=appointment, action=ChangeAction.MOVED)
    assert move.after["closed_override"] is True and "closed_override" not in move.before


# --- Administrators: the closed days and the federal holidays -------------------------------


def test_the_command_proposes_the_federal_holidays_once(db):
    ClosedDay.objects.create(day=NEW_YEAR, reason="Closed for the new year")
    call_command("propose_holidays", "--year", "2027", stdout=io.StringIO())
    expected = set(holidays.US(years=2027, observed=True))
    everywhere = ClosedDay.objects.filter(location=None)
    assert set(everywhere.values_list("day", flat=True)) == expected
    assert date(2027, 7, 5) in expected  # Independence Day on a Sunday, observed on Monday
    assert everywhere.get(day=NEW_YEAR).reason == "Closed for the new year"  # kept as it was
    count = everywhere.count()
    call_command("propose_holidays", "--year", "2027", stdout=io.StringIO())
    assert everywhere.count() == count


def test_the_command_refuses_a_year_out_of_range(db):
    with pytest.raises(CommandError):
        call_command("propose_holidays", "--year", "20270", stdout=io.StringIO())


def test_an_administrator_adds_a_closed_day_and_a_duplicate_gets_a_form_error(
    client, clinic_admin, office
):
    client.force_login(clinic_admin)
    url = reverse("admin:scheduling_closedday_add")
    data = {"day": "2027-01-01", "location": "", "reason": "New Year's Day"}
    assert client.post(url, data).status_code == 302
    again = client.post(url, data)
    assert again.status_code == 200
    assert ClosedDay.objects.count() == 1
    assert client.get(reverse("admin:scheduling_closedday_changelist")).status_code == 200


def test_a_doctor_cannot_reach_the_closed_days_admin(client, office):
    user = UserFactory(username="dr.admin.try", role=Role.DOCTOR)
    client.force_login(user)
    response = client.get(reverse("admin:scheduling_closedday_changelist"))
    assert response.status_code in (302, 403)
