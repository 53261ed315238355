"""Two offices (issue 17, point 4): a doctor who works Monday at one office and Tuesday at the
other is offered, booked, shown and announced at the right one."""

from datetime import time, timedelta

import icalendar
import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from messaging import sending
from scheduling import change_notices, services
from scheduling.models import Appointment, BookingRequest, Kind, Location, Room, WorkingHours
from scheduling.online_booking_link import token_for
from scheduling.services import online_booking
from tests.factories import PatientFactory, screen
from tests.scheduling.conftest import MONDAY, at, desk_actor
from tests.treatments.conftest import make_plan

TUESDAY = MONDAY + timedelta(days=1)
SLOTS = reverse("scheduling:slots")


@pytest.fixture
def east(db):
    office = Location.objects.create(
        name="East office", address="1 East St, Salem, OR", phone="503-555-0100"
    )
    Room.objects.create(location=office, name="East 1")
    return office


@pytest.fixture
def split_week(office, east, doctor):
    """The doctor works Mondays at the Oregon office and Tuesdays at the East office."""
    for where, weekday in ((office, 0), (east, 1)):
        WorkingHours.objects.create(
            doctor=doctor, location=where, weekday=weekday, starts=time(8), ends=time(12)
        )
    return office, east


@pytest.fixture
def record(db):
    patient = PatientFactory(legal_first_name="Rosa", email="rosa@example.org", consent_email=True)
    screen(patient, sclerosant_allergy="no", untreated_varicose="no")
    return patient


def search(client, **params) -> dict:
    query = {"kind": Kind.REVIEW, "first_day": MONDAY, "last_day": TUESDAY} | params
    return client.get(SLOTS, query).context


def test_it_offers_each_day_at_the_office_the_doctor_works_at(client, now, front_desk, split_week):
    office, east = split_week
    client.force_login(front_desk)
    days = dict(search(client)["days"])
    assert {slot.location for slot in days[MONDAY]} == {office}
    assert {slot.location for slot in days[TUESDAY]} == {east}
    assert {slot.room.location_id for slot in days[TUESDAY]} == {east.pk}


def test_it_names_the_office_of_each_free_time_when_there_are_two(
    client, now, front_desk, split_week, record
):
    client.force_login(front_desk)
    response = client.get(SLOTS, {"kind": Kind.REVIEW, "first_day": TUESDAY, "patient": record.pk})
    assert response.context["many_offices"]
    html = response.text
    assert "gs-slot-office" in html and "East office" in html
    assert f"location={split_week[1].pk}" in html  # "Book it" books it at its office


def test_it_filters_free_times_by_office(client, now, front_desk, split_week):
    office, east = split_week
    client.force_login(front_desk)
    days = dict(search(client, location=east.pk)["days"])
    assert list(days) == [TUESDAY]
    assert not search(client, location=east.pk, first_day=MONDAY, last_day=MONDAY)["days"]


def test_it_offers_only_the_kinds_of_visit_an_office_offers(client, now, front_desk, split_week):
    office, east = split_week
    east.kinds = [Kind.CONSULTATION]
    east.save()
    client.force_login(front_desk)
    assert list(dict(search(client)["days"])) == [MONDAY]
    assert list(dict(search(client, kind=Kind.CONSULTATION)["days"])) == [MONDAY, TUESDAY]


def test_it_leaves_out_an_office_out_of_use(client, now, front_desk, split_week):
    office, east = split_week
    east.active = False
    east.save()
    client.force_login(front_desk)
    assert list(dict(search(client)["days"])) == [MONDAY]


def test_a_free_time_is_booked_at_its_own_office_with_a_room_there(
    client, now, front_desk, doctor, split_week, record
):
    office, east = split_week
    client.force_login(front_desk)
    url = reverse("scheduling:book", args=[record.pk])
    data = {
        "kind": Kind.REVIEW,
        "doctor": doctor.pk,
        "date": TUESDAY,
        "time": "09:00",
        "location": east.pk,
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.context["form"].errors
    appointment = Appointment.objects.get()
    assert appointment.location == east
    assert appointment.room.location == east


def test_it_refuses_a_time_at_the_office_the_doctor_is_not_at_that_day(
    now, front_desk, doctor, split_week, record
):
    office, east = split_week
    with pytest.raises(services.BookingError, match="does not work at that time"):
        services.book_appointment(
            patient=record,
            doctor=doctor,
            kind=Kind.REVIEW,
            starts_at=at(TUESDAY, 9),
            location=office,
            by=desk_actor(front_desk),
        )
    assert not Appointment.objects.exists()


def test_it_refuses_a_kind_of_visit_the_office_does_not_offer(
    client, now, front_desk, doctor, split_week, record
):
    office, east = split_week
    east.kinds = [Kind.CONSULTATION]
    east.save()
    client.force_login(front_desk)
    data = {"kind": Kind.REVIEW, "doctor": doctor.pk, "date": TUESDAY, "time": "09:00"}
    data["location"] = east.pk
    response = client.post(reverse("scheduling:book", args=[record.pk]), data)
    assert response.status_code == 200
    assert "East office offers no follow-up review: choose another office." in response.text
    assert not Appointment.objects.exists()


def test_a_series_is_proposed_and_booked_at_the_office_chosen(
    client, now, front_desk, doctor, split_week, record
):
    office, east = split_week
    plan = make_plan(record, doctor, sessions=2)
    client.force_login(front_desk)
    url = reverse("scheduling:book_series", args=[plan.pk])
    page = client.get(url, {"location": east.pk})
    assert page.context["office"] == east
    form = page.context["form"]
    # Times proposed at the East office: on Tuesdays, the doctor's day there.
    assert [form.fields[f"date_{n}"].initial.weekday() for n in (1, 2)] == [1, 1]
    data = {"location": east.pk, "action": "book"}
    for number in (1, 2):
        data[f"date_{number}"] = form.fields[f"date_{number}"].initial
        data[f"time_{number}"] = form.fields[f"time_{number}"].initial.strftime("%H:%M")
    response = client.post(url, data)
    assert response.status_code == 302
    booked = Appointment.objects.filter(plan=plan)
    assert booked.count() == 2
    assert {a.location_id for a in booked} == {east.pk}
    assert {a.room.location_id for a in booked} == {east.pk}


def book_at(desk, patient, doctor, starts_at, location) -> Appointment:
    return services.book_appointment(
        patient=patient,
        doctor=doctor,
        kind=Kind.REVIEW,
        starts_at=starts_at,
        location=location,
        by=desk_actor(desk),
    )


def test_the_day_view_shows_one_office_or_all(client, now, front_desk, doctor, split_week):
    office, east = split_week
    WorkingHours.objects.create(
        doctor=doctor, location=east, weekday=0, starts=time(13), ends=time(17)
    )
    at_home = book_at(front_desk, PatientFactory(), doctor, at(MONDAY, 9), office)
    away = book_at(front_desk, PatientFactory(), doctor, at(MONDAY, 14), east)
    client.force_login(front_desk)

    def shown(**params) -> set[int]:
        context = client.get(reverse("scheduling:day"), {"date": MONDAY} | params).context
        return set(context["shown"])

    assert shown() == {at_home.pk, away.pk}
    assert shown(location=east.pk) == {away.pk}
    assert shown(location=office.pk) == {at_home.pk}
    assert shown(location=office.pk, by="room") == {at_home.pk}
    assert shown(location="nonsense") == {at_home.pk, away.pk}
    page = client.get(reverse("scheduling:day"), {"date": MONDAY, "location": east.pk}).text
    assert f'<option value="{east.pk}" selected>East office</option>' in page
    assert f"location={east.pk}" in page  # the day's links keep the choice


def test_the_week_view_shows_one_office_or_all(client, now, front_desk, doctor, split_week):
    office, east = split_week
    monday = book_at(front_desk, PatientFactory(), doctor, at(MONDAY, 9), office)
    tuesday = book_at(front_desk, PatientFactory(), doctor, at(TUESDAY, 9), east)
    client.force_login(front_desk)

    def shown(**params) -> set[int]:
        context = client.get(reverse("scheduling:week"), {"date": MONDAY} | params).context
        return set(context["shown"])

    assert shown() == {monday.pk, tuesday.pk}
    assert shown(location=east.pk) == {tuesday.pk}


def test_the_messages_and_calendar_entry_name_the_office_and_its_address(
    now, front_desk, doctor, split_week, record
):
    office, east = split_week
    book_at(front_desk, record, doctor, at(TUESDAY, 9), east)
    before = len(mail.outbox)
    sending.send_batch(50)
    [email] = mail.outbox[before:]
    assert "at East office, 1 East St, Salem, OR." in email.body
    [calendar] = [
        icalendar.Calendar.from_ical(part.get_payload(decode=True))
        for part in email.message().walk()
        if part.get_content_type() == "text/calendar"
    ]
    [event] = calendar.walk("VEVENT")
    assert str(event["LOCATION"]) == "East office, 1 East St, Salem, OR"


def test_a_message_about_an_office_without_an_address_names_the_office_alone(
    now, front_desk, doctor, split_week, record
):
    office, east = split_week
    east.address = ""
    east.save()
    book_at(front_desk, record, doctor, at(TUESDAY, 9), east)
    before = len(mail.outbox)
    sending.send_batch(50)
    [email] = mail.outbox[before:]
    assert "at East office." in email.body
    assert "()" not in email.body and "()" not in email.alternatives[0][0]


def test_a_text_names_the_office_and_its_address(now, front_desk, doctor, split_week, record):
    office, east = split_week
    record.reminder_channel = "sms"
    record.consent_sms = True
    record.save()
    appointment = book_at(front_desk, record, doctor, at(TUESDAY, 9), east)
    sending.send_batch(50)
    text = change_notices.of(appointment).get().body
    assert text.endswith("is booked for Tue Dec 1 at 9:00 AM at East office, 1 East St, Salem, OR.")


def test_new_patients_are_offered_times_at_every_office_named(now, split_week):
    office, east = split_week
    choices = online_booking.consultation_options()
    assert {c.office for c in choices} == {office.name, east.name}
    assert {c.location_id for c in choices if c.starts_at.date() == TUESDAY} <= {east.pk}


def test_a_new_patients_request_is_booked_at_the_office_of_the_time_chosen(now, split_week):
    office, east = split_week
    choice = next(c for c in online_booking.consultation_options() if c.location_id == east.pk)
    details = {
        "legal_first_name": "Marisol",
        "legal_last_name": "Quintero",
        "date_of_birth": "1984-03-09",
        "email": "marisol.q@example.net",
        "phone": "",
        "consent_email": True,
        "consent_sms": False,
        "answers": {},
    }
    online_booking.request_consultation(details=details, choice=choice, ip="10.0.0.1")
    request = BookingRequest.objects.get()
    online_booking.confirm_online_booking(token=token_for(request.nonce), ip=None)
    request.refresh_from_db()
    assert request.appointment.location == east
    assert request.appointment.room.location == east


def test_the_free_time_page_reads_no_more_for_more_offices(
    client, now, front_desk, doctor, split_week, card_cache_paused
):
    """The search worked out each time (not kept: scheduling.free_times_cache)."""
    client.force_login(front_desk)
    query = {"kind": Kind.REVIEW, "first_day": MONDAY, "last_day": MONDAY + timedelta(days=13)}
    client.get(SLOTS, query)
    with CaptureQueriesContext(connection) as two:
        client.get(SLOTS, query)
    for n in range(3):
        more = Location.objects.create(name=f"Office {n}")
        Room.objects.create(location=more, name="Room")
        WorkingHours.objects.create(
            doctor=doctor, location=more, weekday=2 + n, starts=time(8), ends=time(12)
        )
    with CaptureQueriesContext(connection) as five:
        response = client.get(SLOTS, query)
    assert len({slot.location for _day, slots in response.context["days"] for slot in slots}) == 5
    assert len(five) == len(two)


def test_it_says_so_when_the_office_asked_for_is_not_one(client, now, front_desk, split_week):
    office, east = split_week
    east.active = False
    east.save()
    client.force_login(front_desk)
    response = client.get(SLOTS, {"kind": Kind.REVIEW, "first_day": MONDAY, "location": east.pk})
    assert response.status_code == 200
    assert "Select a valid choice." in response.text
    assert "results" not in response.context


@pytest.mark.parametrize("value", ["²", "١٢", "𝟙", "-1", "1.0", "9" * 30, ""])
def test_an_office_parameter_that_is_no_plain_number_means_every_office(db, value):
    from scheduling.selectors import office_from

    assert office_from(value) is None


@pytest.mark.parametrize("value", ["²", "١٢", "𝟙", "-1", "1.0", "9" * 30, "", "999"])
def test_the_day_and_week_views_take_an_office_that_is_no_office_in_use_as_every_office(
    client, front_desk, split_week, value
):
    office, east = split_week
    client.force_login(front_desk)
    for name in ("scheduling:day", "scheduling:week"):
        response = client.get(reverse(name), {"date": MONDAY, "location": value})
        assert response.status_code == 200
        assert response.context["office"] is None
        shown = response.context["offices"]
        assert {o.pk for o in shown} == {office.pk, east.pk}
        assert [o.name for o in shown] == sorted(o.name for o in shown)
