"""Issue 15, point 3: a patient books their plan's next session in the portal, within the
plan's rules: the plan's doctor and session length, the weeks between sessions, the notice
period, the eligibility gate; one booking per session, whatever the clicks."""

from datetime import datetime, timedelta

import pytest
from django.urls import reverse

from goodskin.actors import Actor
from goodskin.roles import Role
from scheduling import services
from scheduling.models import Appointment, Kind, Status
from tests.concurrency import contend
from tests.factories import PatientFactory, UserFactory, screen
from tests.scheduling.conftest import (
    MONDAY,
    TZ,
    at,
    desk_actor,
    work_weekdays,
)
from tests.treatments.conftest import chart_session, complete_screening, make_plan

URL = reverse("portal:book_next")


@pytest.fixture
def mine(db, patient, record):
    record.portal_user = patient
    record.save(update_fields=["portal_user"])
    return record


@pytest.fixture
def my_plan(now, hours, mine, doctor):
    return make_plan(mine, doctor)


def offered(client) -> list[datetime]:
    page = client.get(URL)
    assert page.status_code == 200
    return [slot.starts_at for slot in page.context["form"].options]


def patient_actor(user) -> Actor:
    return Actor(user=user, role=Role.PATIENT, ip="127.0.0.1")


def test_the_schedule_offers_the_next_session_while_one_is_left_to_book(
    client, my_plan, patient, front_desk, doctor
):
    client.force_login(patient)
    assert URL in client.get(reverse("portal:schedule")).content.decode()
    for number in range(1, 5):
        services.book_appointment(
            patient=my_plan.patient,
            doctor=doctor,
            kind=Kind.SESSION,
            plan=my_plan,
            session_number=number,
            starts_at=at(MONDAY + timedelta(weeks=4 * number), 9),
            by=desk_actor(front_desk),
        )
    assert URL not in client.get(reverse("portal:schedule")).content.decode()
    response = client.get(URL)
    assert response.url == reverse("portal:schedule")


def test_it_offers_times_with_the_plans_doctor_and_length_after_the_notice(
    client, my_plan, patient, doctor, office
):
    work_weekdays(UserFactory(username="dr.other", role=Role.DOCTOR), office)
    client.force_login(patient)
    times = offered(client)
    assert times
    page = client.get(URL).content.decode()
    assert "Book session 1 of 4" in page
    notice = services.scheduling_settings().patient_notice_hours
    assert min(times) > at(MONDAY, 7) + timedelta(hours=notice)
    slots = client.get(URL).context["form"].options
    assert {slot.doctor for slot in slots} == {doctor}
    minutes = services.minutes_for(Kind.SESSION, my_plan, settings=services.scheduling_settings())
    assert {slot.ends_at - slot.starts_at for slot in slots} == {timedelta(minutes=minutes)}


def test_it_keeps_the_plans_weeks_after_the_last_session(client, my_plan, patient, doctor):
    chart_session(my_plan, doctor, treated_on=MONDAY - timedelta(days=7))
    client.force_login(patient)
    times = offered(client)
    assert "Book session 2 of 4" in client.get(URL).content.decode()
    first_allowed = MONDAY - timedelta(days=7) + timedelta(weeks=my_plan.interval_weeks)
    assert times and min(t.astimezone(TZ).date() for t in times) >= first_allowed


def test_choosing_a_time_books_the_session_and_says_so(client, my_plan, patient, doctor):
    client.force_login(patient)
    chosen = offered(client)[2]
    data = {"starts_at": chosen.isoformat(), "plan": my_plan.pk, "session": 1}
    response = client.post(URL, data, follow=True)
    assert "Your session is booked." in response.content.decode()
    visit = Appointment.objects.get(plan=my_plan)
    assert (visit.session_number, visit.starts_at, visit.doctor, visit.kind) == (
        1,
        chosen,
        doctor,
        Kind.SESSION,
    )
    assert visit.created_by == patient
    assert visit.changes.get().by == patient
    # The next page offers session 2, four weeks on.
    assert "Book session 2 of 4" in client.get(URL).content.decode()
    later = offered(client)
    assert min(later) - chosen >= timedelta(weeks=4) - timedelta(days=1)


def test_a_time_not_offered_is_refused(client, my_plan, patient):
    client.force_login(patient)
    offered(client)
    for value in ("2026-12-01T03:00:00+00:00", "not a time", "9999-12-31T00:00:00+00:00", ""):
        data = {"starts_at": value, "plan": my_plan.pk, "session": 1}
        response = client.post(URL, data)
        assert response.status_code == 200
        assert "Choose one of the times below." in response.content.decode()
    assert not Appointment.objects.exists()


def test_an_old_page_does_not_book_another_session(client, my_plan, patient, front_desk, doctor):
    """The front desk booked session 1 while the patient's page still offered it."""
    client.force_login(patient)
    chosen = offered(client)[0]
    services.book_appointment(
        patient=my_plan.patient,
        doctor=doctor,
        kind=Kind.SESSION,
        plan=my_plan,
        session_number=1,
        starts_at=at(MONDAY + timedelta(days=2), 15),
        by=desk_actor(front_desk),
    )
    data = {"starts_at": chosen.isoformat(), "plan": my_plan.pk, "session": 1}
    response = client.post(URL, data)
    assert "This session is booked already, or your plan changed." in response.content.decode()
    assert Appointment.objects.count() == 1


def test_another_patients_plan_is_refused(client, my_plan, patient, doctor, hours):
    other = PatientFactory()
    screen(other, sclerosant_allergy="no", untreated_varicose="no")

    complete_screening(other)
    theirs = make_plan(other, doctor)
    client.force_login(patient)
    chosen = offered(client)[0]
    for plan_id, session in ((theirs.pk, 1), (2**31 - 1, 1), ("x", 1), (my_plan.pk, "0")):
        data = {"starts_at": chosen.isoformat(), "plan": plan_id, "session": session}
        response = client.post(URL, data)
        assert response.status_code == 200
        text = response.content.decode()
        assert "your plan changed" in text or "out of date" in text, (plan_id, session)
    # The service refuses it too, whatever a page sends.
    with pytest.raises(services.BookingError, match="This treatment plan is not yours."):
        services.patient_book_session(
            plan_id=theirs.pk, number=1, starts_at=chosen, by=patient_actor(patient)
        )
    assert not Appointment.objects.exists()


def test_a_blocked_session_is_not_offered_online(client, my_plan, patient, mine):
    screen(mine, untreated_varicose="yes")
    client.force_login(patient)
    page = client.get(URL)
    assert "can't be booked online. Please call the clinic" in page.content.decode()
    assert page.context["form"].options == []
    assert client.post(URL, {"plan": my_plan.pk, "session": 1}).status_code == 200
    assert not Appointment.objects.exists()


def test_only_patients_open_it(client, front_desk, db):
    client.force_login(front_desk)
    assert client.get(URL).status_code == 403
    client.logout()
    assert client.get(URL).status_code == 302


def test_a_patient_without_a_plan_is_told_so(client, patient, db):
    PatientFactory(portal_user=patient)
    client.force_login(patient)
    response = client.get(URL, follow=True)
    assert "Every session of your treatment plan is booked already." in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_two_bookings_of_one_session_at_once_make_one(hours, doctor):
    """The plan row is locked: without the lock both check that session 1 is free before
    either books it, and the plan gets session 1 twice."""
    from django.db import connection

    user = UserFactory(username="rosa", role=Role.PATIENT)
    record = PatientFactory(portal_user=user)
    screen(record, sclerosant_allergy="no", untreated_varicose="no")
    complete_screening(record)
    plan = make_plan(record, doctor)
    options = services.patient_book_options(record, services.patient_next_session(record))
    first, second = options[0].starts_at, options[-1].starts_at
    connection.close()

    def book(starts_at):
        return lambda: services.patient_book_session(
            plan_id=plan.pk, number=1, starts_at=starts_at, by=patient_actor(user)
        )

    from scheduling.services import patient_booking

    holder, contender, waited = contend(
        book(first), book(second), pause=(patient_booking, "_unbooked")
    )
    assert isinstance(holder, Appointment), holder
    assert isinstance(contender, services.BookingError), contender
    assert waited
    assert Appointment.objects.filter(plan=plan, status=Status.BOOKED).count() == 1
