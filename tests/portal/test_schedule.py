"""The patient's own pages: schedule, calendar feed, self-service changes, preferences."""

from datetime import timedelta

import icalendar
import pytest
import time_machine
from django.urls import reverse

from patients.models import AuditEntry
from scheduling import reminders, services
from scheduling.models import Appointment, AppointmentChange, ChangeAction, Kind, Status
from tests.factories import PatientFactory, UserFactory, screen
from tests.scheduling.conftest import MONDAY, TZ, at, desk_actor, three_sessions
from tests.treatments.conftest import chart_session, make_plan


@pytest.fixture
def me(patient):
    record = PatientFactory(
        portal_user=patient, legal_first_name="Rosa", legal_last_name="Quintana", consent_email=True
    )
    screen(record, sclerosant_allergy="no", untreated_varicose="no")
    return record


@pytest.fixture
def stranger(db):
    user = UserFactory(username="stranger", role="patient")
    return PatientFactory(portal_user=user, legal_last_name="Zebulon")


def book(front_desk, patient, doctor, starts_at, **extra):
    return services.book_appointment(
        patient=patient,
        doctor=doctor,
        starts_at=starts_at,
        by=desk_actor(front_desk),
        kind=extra.pop("kind", Kind.REVIEW),
        **extra,
    )


@pytest.fixture
def visit(now, hours, front_desk, doctor, me):
    hours.address = "1200 SW Main St, Portland OR"
    hours.phone = "(503) 555-0100"
    hours.save()
    return book(front_desk, me, doctor, at(MONDAY + timedelta(days=3), 10))


def test_it_shows_the_patient_upcoming_and_past_visits_in_clinic_time(
    client, visit, patient, me, doctor
):
    Appointment.objects.create(
        patient=me,
        doctor=doctor,
        location=visit.location,
        room=visit.room,
        kind=Kind.CONSULTATION,
        status=Status.COMPLETED,
        starts_at=at(MONDAY - timedelta(days=20), 14),
        ends_at=at(MONDAY - timedelta(days=20), 14, 30),
    )
    client.force_login(patient)
    body = client.get(reverse("portal:schedule")).content.decode()
    upcoming, past = body.split("Past visits")
    assert "Thursday, December 3 · 10:00 AM" in upcoming
    assert "Follow-up review" in upcoming and "1200 SW Main St" in upcoming
    assert "Tuesday, November 10 · 2:00 PM" in past and "Consultation" in past
    assert AuditEntry.objects.filter(patient=me, subject="portal schedule").exists()


def test_it_shows_the_plan_progress_picture_and_the_days_left_in_support_hose(
    client, now, hours, front_desk, doctor, patient, me
):
    plan = make_plan(me, doctor, sessions=4)
    with time_machine.travel(at(MONDAY - timedelta(days=5), 7), tick=False):
        first = book(
            front_desk,
            me,
            doctor,
            at(MONDAY - timedelta(days=5), 9),
            kind=Kind.SESSION,
            plan=plan,
            session_number=1,
        )
    Appointment.objects.filter(pk=first.pk).update(status=Status.COMPLETED)
    chart_session(plan, doctor, treated_on=MONDAY - timedelta(days=5))
    client.force_login(patient)
    body = client.get(reverse("portal:schedule")).content.decode()
    assert "Session 1 of 4 done." in body
    assert 'id="progress-picture"' in body
    assert "9 more days with your support hose." in body
    assert "Warning signs" in body and "pain or swelling in the calf" in body


def test_it_tells_a_patient_account_without_a_record_to_call(client, patient):
    client.force_login(patient)
    assert (
        "not linked to a patient record" in client.get(reverse("portal:schedule")).content.decode()
    )


def test_it_ends_a_patient_session_after_thirty_idle_minutes(client, patient, me):
    # More in tests/goodskin/test_session_limits.py.
    client.force_login(patient)
    client.get(reverse("portal:schedule"))
    with time_machine.travel(timedelta(minutes=31)):
        response = client.get(reverse("portal:schedule"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def feed(client, patient) -> tuple[str, icalendar.Calendar]:
    client.force_login(patient)
    client.post(reverse("portal:calendar"))
    url = client.get(reverse("portal:calendar")).context["url"].split("testserver")[1]
    client.logout()
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    return url, icalendar.Calendar.from_ical(response.content)


def events(calendar) -> dict:
    return {str(e["UID"]): e for e in calendar.walk("VEVENT")}


def test_it_serves_a_private_calendar_feed_a_phone_can_read(client, visit, patient, me, front_desk):
    url, calendar = feed(client, patient)
    timezone_ids = [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")]
    assert timezone_ids == ["America/Los_Angeles"]
    event = events(calendar)[f"appointment-{visit.pk}@goodskin.clinic"]
    assert event["DTSTART"].dt == at(MONDAY + timedelta(days=3), 10)
    assert event["DTSTART"].params["TZID"] == "America/Los_Angeles"
    assert event["DTEND"].dt - event["DTSTART"].dt == timedelta(minutes=15)
    assert str(event["STATUS"]) == "CONFIRMED"
    assert int(event["SEQUENCE"]) == 0
    assert "Follow-up review" in str(event["SUMMARY"])
    assert "1200 SW Main St" in str(event["LOCATION"])
    assert "Dr " in str(event["DESCRIPTION"]) and "(503) 555-0100" in str(event["DESCRIPTION"])
    assert event["DTSTAMP"].dt.tzinfo is not None
    assert str(calendar["VERSION"]) == "2.0" and "Goodskin" in str(calendar["PRODID"])
    # A move raises SEQUENCE and keeps the UID; a cancellation stays as CANCELLED.
    services.move_appointment(
        appointment=visit, starts_at=at(MONDAY + timedelta(days=4), 11), by=desk_actor(front_desk)
    )
    moved = events(icalendar.Calendar.from_ical(client.get(url).content))
    event = moved[f"appointment-{visit.pk}@goodskin.clinic"]
    assert int(event["SEQUENCE"]) == 1
    assert event["DTSTART"].dt == at(MONDAY + timedelta(days=4), 11)
    services.cancel_appointment(
        appointment=visit, by=desk_actor(front_desk), cancelled_by="clinic", reason="Doctor ill"
    )
    cancelled = events(icalendar.Calendar.from_ical(client.get(url).content))
    event = cancelled[f"appointment-{visit.pk}@goodskin.clinic"]
    assert (str(event["STATUS"]), int(event["SEQUENCE"])) == ("CANCELLED", 2)


def test_it_stops_a_revoked_feed_and_refuses_a_made_up_one(client, visit, patient):
    url, _ = feed(client, patient)
    client.force_login(patient)
    client.post(reverse("portal:calendar"))
    client.logout()
    assert client.get(url).status_code == 404
    assert client.get("/portal/calendar/not-a-real-token.ics").status_code == 404


def test_it_offers_one_appointment_as_an_ics_download(client, visit, patient):
    client.force_login(patient)
    response = client.get(reverse("portal:appointment_ics", args=[visit.pk]))
    calendar = icalendar.Calendar.from_ical(response.content)
    assert len(calendar.walk("VEVENT")) == 1
    assert "attachment" in response["Content-Disposition"]


def test_it_lets_the_patient_cancel_ahead_of_the_notice_period(client, visit, patient):
    client.force_login(patient)
    response = client.post(
        reverse("portal:cancel", args=[visit.pk]),
        {"version": visit.version, "confirm": "yes"},
        follow=True,
    )
    assert "Your appointment is cancelled" in response.content.decode()
    visit.refresh_from_db()
    assert (visit.status, visit.cancelled_by) == (Status.CANCELLED, "patient")
    assert AppointmentChange.objects.filter(
        appointment=visit, action=ChangeAction.CANCELLED, by=patient
    ).exists()
    assert set(reminders.of(visit).values_list("status", flat=True)) == {"cancelled"}


def test_it_refuses_a_forged_cancel_inside_the_notice_period(
    client, now, hours, front_desk, doctor, patient, me
):
    hours.phone = "(503) 555-0100"
    hours.save()
    soon = book(front_desk, me, doctor, at(MONDAY + timedelta(days=1), 9))  # 26 h away
    with time_machine.travel(at(MONDAY, 10), tick=False):  # now 23 h before
        client.force_login(patient)
        page = client.get(reverse("portal:appointment", args=[soon.pk])).content.decode()
        assert "be changed online" in page
        assert "tel:(503) 555-0100" in page
        cancel = reverse("portal:cancel", args=[soon.pk])
        response = client.post(cancel, {"version": soon.version, "confirm": "yes"}, follow=True)
    assert "too late to change this appointment online" in response.content.decode()
    soon.refresh_from_db()
    assert soon.status == Status.BOOKED


def test_it_moves_to_an_offered_time_and_re_times_the_reminders(client, visit, patient):
    client.force_login(patient)
    form = client.get(reverse("portal:move", args=[visit.pk])).context["form"]
    choice = form.fields["starts_at"].choices[-1][0]  # weeks ahead: both reminders to come
    response = client.post(
        reverse("portal:move", args=[visit.pk]),
        {"starts_at": choice, "version": visit.version, "confirm": "yes"},
    )
    assert response.status_code == 302
    visit.refresh_from_db()
    assert visit.starts_at.isoformat() == choice
    first = reminders.of(visit).get(kind="reminder_first", status="pending")
    assert first.due_at == visit.starts_at - timedelta(hours=48)
    assert first.announced_at == visit.starts_at


@pytest.fixture
def series(now, hours, front_desk, doctor, me):
    """Three sessions of a plan, 5 weeks apart, the first in two days."""
    return three_sessions(me, doctor, front_desk)


def test_it_offers_only_times_that_keep_the_plan_interval_and_the_notice(series):
    first, second, _third = series
    options = services.patient_move_options(second)
    days = {s.starts_at.astimezone(TZ).date() for s in options}
    assert min(days) >= (MONDAY + timedelta(days=2)) + timedelta(weeks=4)
    assert max(days) <= (MONDAY + timedelta(weeks=10)) - timedelta(weeks=4)
    soon = services.patient_move_options(first)
    assert all(s.starts_at - at(MONDAY, 7) > timedelta(hours=24) for s in soon)


def test_the_move_options_of_a_plan_session_read_the_plan_once_not_per_candidate_time(
    series, django_assert_max_num_queries, card_cache_paused
):
    _first, second, _third = series
    # Hundreds of candidate times in the 28 days looked at; a handful of queries in all (one
    # of them the patient's own other appointments, read once for the whole range; two the
    # eligibility gate: the screening and the doctors' clearances).
    with django_assert_max_num_queries(12):
        options = services.patient_move_options(second)
    assert options


def test_it_refuses_a_time_that_was_not_offered_or_was_just_taken(
    client, visit, patient, front_desk, doctor
):
    client.force_login(patient)
    form = client.get(reverse("portal:move", args=[visit.pk])).context["form"]
    choice = form.fields["starts_at"].choices[0][0]
    forged = client.post(
        reverse("portal:move", args=[visit.pk]),
        {"starts_at": at(MONDAY, 8).isoformat(), "version": visit.version},
    )
    assert forged.status_code == 200
    from datetime import datetime

    book(front_desk, PatientFactory(), doctor, datetime.fromisoformat(choice))
    taken = client.post(
        reverse("portal:move", args=[visit.pk]),
        {"starts_at": choice, "version": visit.version, "confirm": "yes"},
    )
    assert taken.status_code == 200
    visit.refresh_from_db()
    assert visit.starts_at == at(MONDAY + timedelta(days=3), 10)


def test_it_saves_the_patients_preferences_and_records_who_changed_them(client, patient, me):
    client.force_login(patient)
    response = client.post(
        reverse("portal:preferences"),
        {
            "phone": "(503) 555-0177",
            "email": "rosa@example.org",
            "state": "OR",
            "reminder_channel": "sms",
            "consent_sms": "on",
            "version": me.version,
        },
    )
    assert response.status_code == 302
    me.refresh_from_db()
    assert (str(me.phone), me.consent_sms, me.consent_email) == ("+15035550177", True, False)
    change = AuditEntry.objects.filter(patient=me, action="change").latest("at")
    assert (change.user, change.role) == (patient, "patient")


def test_it_refuses_sms_without_a_phone(client, patient, me):
    client.force_login(patient)
    response = client.post(
        reverse("portal:preferences"),
        {"phone": "", "email": "", "reminder_channel": "sms", "version": me.version},
    )
    assert "Add a mobile number" in response.content.decode()


PORTAL_PAGES = [
    ("portal:appointment", "get"),
    ("portal:cancel", "get"),
    ("portal:cancel", "post"),
    ("portal:undo_cancel", "post"),
    ("portal:move", "get"),
    ("portal:move", "post"),
    ("portal:appointment_ics", "get"),
]


@pytest.mark.parametrize(("name", "method"), PORTAL_PAGES)
def test_it_answers_404_with_nothing_of_another_patients_appointment(
    client, now, hours, front_desk, doctor, patient, me, stranger, name, method
):
    theirs = book(front_desk, stranger, doctor, at(MONDAY + timedelta(days=3), 11))
    client.force_login(patient)
    response = getattr(client, method)(reverse(name, args=[theirs.pk]))
    assert response.status_code == 404
    assert "Zebulon" not in response.content.decode()
    theirs.refresh_from_db()
    assert (theirs.status, theirs.starts_at) == (Status.BOOKED, at(MONDAY + timedelta(days=3), 11))


@pytest.mark.parametrize("name", ["portal:schedule", "portal:calendar", "portal:preferences"])
def test_it_keeps_staff_out_of_the_portal(client, users_by_role, name):
    for role in ("front_desk", "doctor"):
        client.force_login(users_by_role[role])
        assert client.get(reverse(name)).status_code in (403, 404)


def test_it_shows_staff_that_the_patient_changed_their_details(client, patient, me, front_desk):
    client.force_login(patient)
    client.post(
        reverse("portal:preferences"),
        {
            "phone": "(503) 555-0177",
            "email": "rosa@example.org",
            "state": "OR",
            "reminder_channel": "email",
            "consent_email": "on",
            "version": me.version,
        },
    )
    client.force_login(front_desk)
    body = client.get(reverse("patients:detail", args=[me.pk])).content.decode()
    assert "the patient, online" in body and "<code>phone</code>" in body
