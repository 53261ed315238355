"""The day, week and own-day pages, the appointment page and who may open what."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from goodskin.roles import Role
from patients.models import AuditAction, AuditEntry
from scheduling import services
from scheduling.clock import zone
from scheduling.models import Appointment, Kind, Status
from tests.factories import PatientFactory, UserFactory, screen
from tests.scheduling.conftest import MONDAY, at, desk_actor, work_weekdays
from tests.treatments.conftest import chart_session, make_plan
from treatments.models import Visit

TUESDAY = MONDAY + timedelta(days=1)


@pytest.fixture
def record(db):
    patient = PatientFactory(legal_first_name="Rosa", legal_last_name="Parker")
    screen(patient, sclerosant_allergy="no", untreated_varicose="no")
    return patient


def book(front_desk, patient, doctor, starts_at, **extra):
    extra.setdefault("kind", Kind.CONSULTATION)
    return services.book_appointment(
        patient=patient, doctor=doctor, starts_at=starts_at, by=desk_actor(front_desk), **extra
    )


@pytest.fixture
def appointment(now, hours, front_desk, doctor, record):
    return book(front_desk, record, doctor, at(MONDAY, 9))


def page_urls(appointment, record, plan) -> dict[str, str]:
    return {
        "day": reverse("scheduling:day"),
        "week": reverse("scheduling:week"),
        "my_day": reverse("scheduling:my_day"),
        "slots": reverse("scheduling:slots"),
        "time_off": reverse("scheduling:time_off"),
        "book": reverse("scheduling:book", args=[record.pk]),
        "book_series": reverse("scheduling:book_series", args=[plan.pk]),
        "appointment": reverse("scheduling:appointment", args=[appointment.pk]),
    }


# Who may GET each page: everyone else gets 403 (pages without an id) or 404 (pages with one).
ALLOWED = {
    "day": {Role.FRONT_DESK, Role.DOCTOR},
    "week": {Role.FRONT_DESK, Role.DOCTOR},
    "my_day": {Role.DOCTOR},
    "slots": {Role.FRONT_DESK, Role.DOCTOR},
    "time_off": {Role.FRONT_DESK, Role.DOCTOR},
    "book": {Role.FRONT_DESK},
    "book_series": {Role.FRONT_DESK},
    "appointment": {Role.FRONT_DESK, Role.DOCTOR},
}
WITH_ID = {"book", "book_series", "appointment"}


def test_it_opens_each_page_only_for_the_roles_it_is_for(
    client, appointment, users_by_role, record, doctor
):
    urls = page_urls(appointment, record, make_plan(record, doctor))
    for name, url in urls.items():
        for role, user in users_by_role.items():
            client.force_login(user)
            status = client.get(url).status_code
            if role in ALLOWED[name]:
                assert status == 200, (name, role)
            else:
                assert status == (404 if name in WITH_ID else 403), (name, role)


@pytest.mark.parametrize("name", ["appointment", "move", "cancel", "status"])
def test_it_answers_404_for_an_appointment_that_does_not_exist(client, front_desk, db, name):
    client.force_login(front_desk)
    url = reverse(f"scheduling:{name}", args=[999999])
    method = client.get if name == "appointment" else client.post
    assert method(url).status_code == 404


@pytest.mark.parametrize("name", ["book", "book_series"])
def test_it_answers_404_for_a_patient_or_plan_that_does_not_exist(client, front_desk, db, name):
    client.force_login(front_desk)
    assert client.get(reverse(f"scheduling:{name}", args=[999999])).status_code == 404


def test_it_answers_404_when_a_doctor_tries_to_move_or_cancel(client, appointment, doctor):
    client.force_login(doctor)
    for name in ("move", "cancel"):
        url = reverse(f"scheduling:{name}", args=[appointment.pk])
        data = {"version": 1, "date": "2026-12-01", "time": "10:00"}
        assert client.post(url, data).status_code == 404
    appointment.refresh_from_db()
    assert (appointment.status, appointment.starts_at) == (Status.BOOKED, at(MONDAY, 9))


def test_it_keeps_patients_out_of_every_appointment_url(client, appointment, patient):
    client.force_login(patient)
    for name in ("appointment", "move", "cancel", "status"):
        url = reverse(f"scheduling:{name}", args=[appointment.pk])
        assert client.get(url).status_code == 404
        assert client.post(url).status_code == 404


def test_it_shows_the_day_in_clinic_time_with_a_column_per_doctor(
    client, appointment, front_desk, doctor, other_doctor
):
    client.force_login(front_desk)
    response = client.get(reverse("scheduling:day"), {"date": "2026-11-30"})
    html = response.content.decode()
    assert "9:00 AM–9:30 AM" in html  # 17:00 UTC shown as Oregon time
    assert "Rosa Parker" in html
    assert reverse("patients:detail", args=[appointment.patient_id]) in html
    assert doctor.get_full_name() in html and other_doctor.get_full_name() in html
    assert "?date=2026-11-29" in html and "?date=2026-12-01" in html
    assert 'value="checked_in"' in html


def test_it_defaults_the_day_to_today_in_clinic_time(client, appointment, front_desk):
    client.force_login(front_desk)
    response = client.get(reverse("scheduling:day"), {"date": "not-a-date"})
    assert response.context["day"] == MONDAY


def test_it_lays_the_day_out_by_room(client, appointment, front_desk):
    client.force_login(front_desk)
    response = client.get(reverse("scheduling:day"), {"date": "2026-11-30", "by": "room"})
    titles = re.findall(
        r'gs-day-column-title" id="col-\d+">([^<]*) <span', response.content.decode()
    )
    assert titles == ["Room 1", "Room 2"]


def test_it_checks_a_patient_in_from_the_day_view(client, appointment, front_desk):
    client.force_login(front_desk)
    day = reverse("scheduling:day") + "?date=2026-11-30"
    response = client.post(
        reverse("scheduling:status", args=[appointment.pk]),
        {"status": "checked_in", "version": appointment.version, "next": day},
    )
    assert response.status_code == 302 and response.url == day
    appointment.refresh_from_db()
    assert appointment.status == Status.CHECKED_IN


def test_it_refuses_a_status_change_from_a_stale_page(client, appointment, front_desk):
    client.force_login(front_desk)
    url = reverse("scheduling:status", args=[appointment.pk])
    client.post(url, {"status": "checked_in", "version": 1})
    response = client.post(url, {"status": "no_show", "version": 1}, follow=True)
    assert "Someone else changed this appointment" in response.content.decode()
    appointment.refresh_from_db()
    assert appointment.status == Status.CHECKED_IN


def test_it_ignores_a_next_address_on_another_site(client, appointment, front_desk):
    client.force_login(front_desk)
    response = client.post(
        reverse("scheduling:status", args=[appointment.pk]),
        {"status": "checked_in", "version": 1, "next": "https://evil.example/"},
    )
    assert response.url == reverse("scheduling:appointment", args=[appointment.pk])


def many_appointments(now, office, front_desk, count_per_doctor: int):
    """Four doctors, each in their own room, with `count_per_doctor` consultations over the
    week; returns a function that books `more` for each of them."""
    people = [UserFactory(username=f"dr.q{n}", role=Role.DOCTOR) for n in range(4)]
    for person in people:
        work_weekdays(person, office)
    services.scheduling_settings().__class__.objects.update(buffer_minutes=0)
    from scheduling.models import Room

    rooms = [Room.objects.create(location=office, name=f"Q{n}") for n in range(len(people))]
    booked = [0]

    def add(more: int) -> None:
        for person, room in zip(people, rooms, strict=True):
            for n in range(booked[0], booked[0] + more):
                day = MONDAY + timedelta(days=n % 5)
                starts_at = at(day, 8 + n // 5 % 8, 30 * (n // 40 % 2))
                book(front_desk, PatientFactory(), person, starts_at, room=room)
        booked[0] += more

    add(count_per_doctor)
    return add


def test_it_reads_the_day_and_week_in_a_fixed_number_of_queries(
    client, now, office, front_desk, card_cache_paused
):
    """As many queries for 1 appointment a doctor as for 30, in each layout, written afresh
    (test_fast_paths.py has the kept pages)."""
    client.force_login(front_desk)
    pages = [
        (reverse("scheduling:day"), {"date": "2026-11-30"}),
        (reverse("scheduling:day"), {"date": "2026-11-30", "by": "room"}),
        (reverse("scheduling:week"), {"date": "2026-12-02"}),
    ]

    def queries() -> list[int]:
        counts = []
        for url, query in pages:
            with CaptureQueriesContext(connection) as captured:
                response = client.get(url, query)
            assert response.status_code == 200
            counts.append(len(captured.captured_queries))
        return counts

    add = many_appointments(now, office, front_desk, 1)
    client.get(reverse("scheduling:day"))  # the session's first request writes it
    few = queries()
    add(29)
    assert queries() == few
    assert max(few) <= 12
    response = client.get(reverse("scheduling:week"), {"date": "2026-12-02"})
    assert len(response.context["shown"]) == 4 * 30
    response = client.get(reverse("scheduling:day"), {"date": "2026-11-30"})
    assert len(response.context["shown"]) == 4 * 6


def test_it_audits_one_entry_per_day_view_and_one_per_appointment_page(
    client, appointment, front_desk
):
    client.force_login(front_desk)
    client.get(reverse("scheduling:day"), {"date": "2026-11-30"})
    entry = AuditEntry.objects.get(subject="day view 2026-11-30")
    assert entry.details["appointments"] == [appointment.pk]
    client.get(reverse("scheduling:appointment", args=[appointment.pk]))
    assert AuditEntry.objects.filter(
        patient=appointment.patient,
        action=AuditAction.VIEW,
        subject=f"appointment:{appointment.pk}",
    ).exists()


def test_it_lists_the_week_as_days_by_doctors(client, appointment, front_desk, doctor):
    book(front_desk, PatientFactory(), doctor, at(MONDAY + timedelta(days=3), 11))
    client.force_login(front_desk)
    response = client.get(reverse("scheduling:week"), {"date": "2026-12-03"})
    days = response.context["row_cells"]
    assert days[0][0] == MONDAY and len(days) == 7
    assert [cells[0].count("gs-week-item") for _d, cells, _c in (days[0], days[3])] == [1, 1]
    assert "11:00" in response.content.decode()


def test_it_links_a_doctors_session_to_its_chart(client, now, hours, front_desk, doctor, record):
    plan = make_plan(record, doctor)
    chart_session(plan, doctor, treated_on=MONDAY - timedelta(weeks=5))
    session = book(
        front_desk, record, doctor, at(MONDAY, 10), kind=Kind.SESSION, plan=plan, session_number=2
    )
    client.force_login(doctor)
    html = client.get(reverse("scheduling:my_day")).content.decode()
    assert reverse("treatments:chart_create", args=[record.pk, plan.pk]) in html
    assert reverse("scheduling:appointment", args=[session.pk]) in html


def test_it_shows_a_charted_session_of_today_with_its_chart_and_its_check_in_button(
    client, now, hours, front_desk, doctor, record
):
    plan = make_plan(record, doctor)
    chart = chart_session(plan, doctor, treated_on=MONDAY - timedelta(weeks=5))
    session = book(
        front_desk, record, doctor, at(MONDAY, 10), kind=Kind.SESSION, plan=plan, session_number=1
    )
    client.force_login(doctor)
    html = client.get(reverse("scheduling:my_day")).content.decode()
    assert reverse("treatments:chart", args=[record.pk, chart.pk]) in html
    assert reverse("treatments:chart_create", args=[record.pk, plan.pk]) not in html
    assert reverse("scheduling:status", args=[session.pk]) in html
    assert 'name="status" value="checked_in"' in html


def test_it_offers_to_chart_a_touch_up_of_a_completed_plan_then_links_its_chart(
    client, now, hours, front_desk, doctor, record
):
    plan = make_plan(record, doctor, sessions=2)
    chart_session(plan, doctor, treated_on=MONDAY - timedelta(weeks=9))
    chart_session(plan, doctor, treated_on=MONDAY - timedelta(weeks=5))
    book(front_desk, record, doctor, at(MONDAY, 10), kind=Kind.TOUCH_UP, plan=plan)
    client.force_login(doctor)
    touch_up = reverse("treatments:touch_up_create", args=[record.pk, plan.pk])
    html = client.get(reverse("scheduling:my_day")).content.decode()
    assert touch_up in html and "Chart the touch-up" in html
    assert reverse("treatments:chart_create", args=[record.pk, plan.pk]) not in html
    chart = chart_session(plan, doctor, treated_on=MONDAY, visit=Visit.TOUCH_UP)
    html = client.get(reverse("scheduling:my_day")).content.decode()
    assert reverse("treatments:chart", args=[record.pk, chart.pk]) in html
    assert "Chart of the touch-up" in html and touch_up not in html


def test_it_shows_only_the_doctors_own_appointments_in_my_day(
    client, appointment, doctor, other_doctor
):
    client.force_login(other_doctor)
    response = client.get(reverse("scheduling:my_day"))
    assert response.context["visits"] == []
    client.force_login(doctor)
    visits = client.get(reverse("scheduling:my_day")).context["visits"]
    assert [visit.appointment for visit in visits] == [appointment]


def test_it_shows_the_history_with_who_and_from_what_to_what(client, appointment, front_desk):
    client.force_login(front_desk)
    client.post(
        reverse("scheduling:move", args=[appointment.pk]),
        {"version": 1, "date": "2026-12-01", "time": "10:00"},
    )
    html = client.get(reverse("scheduling:appointment", args=[appointment.pk])).content.decode()
    assert "Moved" in html
    assert "Monday, November 30, 2026 at 9:00 AM" in html
    assert "Tuesday, December 1, 2026 at 10:00 AM" in html
    assert front_desk.get_full_name() in html


def test_it_moves_an_appointment(client, appointment, front_desk):
    client.force_login(front_desk)
    response = client.post(
        reverse("scheduling:move", args=[appointment.pk]),
        {"version": 1, "date": "2026-12-01", "time": "10:00"},
    )
    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.starts_at == at(TUESDAY, 10)


def test_it_refuses_a_move_from_a_stale_form(client, appointment, front_desk):
    client.force_login(front_desk)
    url = reverse("scheduling:move", args=[appointment.pk])
    client.post(url, {"version": 1, "date": "2026-12-01", "time": "10:00"})
    response = client.post(url, {"version": 1, "date": "2026-12-02", "time": "11:00"})
    assert response.status_code == 200
    assert "Someone else changed this appointment" in response.content.decode()
    appointment.refresh_from_db()
    assert appointment.starts_at == at(TUESDAY, 10)


@pytest.mark.parametrize(
    ("when", "message"),
    [
        ("2026-03-08T02:30", "does not exist on Sunday, March 8, 2026"),
        ("2026-11-01T01:30", "happens twice on Sunday, November 1, 2026"),
        ("2026-12-01T20:00", "does not work at that time"),
        ("2026-11-29T10:00", "in the past"),
    ],
)
def test_it_explains_a_move_it_refuses(client, appointment, front_desk, when, message):
    day, time = when.split("T")
    client.force_login(front_desk)
    response = client.post(
        reverse("scheduling:move", args=[appointment.pk]),
        {"version": 1, "date": day, "time": time},
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    appointment.refresh_from_db()
    assert appointment.starts_at == at(MONDAY, 9)


def test_it_offers_to_move_later_sessions_too_and_does_on_confirmation(
    client, now, hours, front_desk, doctor, record
):
    plan = make_plan(record, doctor, sessions=3)
    first, second, third = services.book_series(
        plan=plan,
        by=desk_actor(front_desk),
        starts={n + 1: at(MONDAY + timedelta(weeks=w), 9) for n, w in enumerate((0, 4, 8))},
    )
    client.force_login(front_desk)
    url = reverse("scheduling:move", args=[second.pk])
    new_day = (MONDAY + timedelta(weeks=6)).isoformat()
    response = client.post(url, {"version": second.version, "date": new_day, "time": "09:00"})
    html = response.content.decode()
    assert "Move them too" in html and "Session 3" in html
    second.refresh_from_db()
    assert second.starts_at == at(MONDAY + timedelta(weeks=4), 9)  # nothing moved yet
    confirm = {
        "version": second.version,
        "date": new_day,
        "time": "09:00",
        "shift_later": "on",
    }
    assert client.post(url, confirm).status_code == 302
    second.refresh_from_db()
    third.refresh_from_db()
    assert second.starts_at == at(MONDAY + timedelta(weeks=6), 9)
    tz = zone("America/Los_Angeles")
    gap = third.starts_at.astimezone(tz).date() - second.starts_at.astimezone(tz).date()
    assert gap >= timedelta(weeks=4)


def test_it_cancels_with_a_reason_and_flags_a_late_cancellation(client, appointment, front_desk):
    client.force_login(front_desk)
    response = client.post(
        reverse("scheduling:cancel", args=[appointment.pk]),
        {"version": 1, "cancelled_by": "patient", "reason": "Flu"},
        follow=True,
    )
    assert "late cancellation" in response.content.decode().lower()
    appointment.refresh_from_db()
    assert (appointment.status, appointment.late_cancel) == (Status.CANCELLED, True)
    assert Appointment.objects.count() == 1  # kept, not deleted


def test_it_asks_for_a_reason_to_cancel(client, appointment, front_desk):
    client.force_login(front_desk)
    response = client.post(
        reverse("scheduling:cancel", args=[appointment.pk]),
        {"version": 1, "cancelled_by": "clinic", "reason": ""},
    )
    assert response.status_code == 200
    assert "This field is required" in response.content.decode()
    appointment.refresh_from_db()
    assert appointment.status == Status.BOOKED


def test_the_day_and_week_say_when_the_clinic_or_an_office_is_closed(
    client, now, office, front_desk
):
    from scheduling.models import ClosedDay, Location

    east = Location.objects.create(name="East office", time_zone=office.time_zone)
    ClosedDay.objects.create(day=MONDAY, reason="Thanksgiving week")
    ClosedDay.objects.create(day=MONDAY + timedelta(days=1), location=east, reason="Painting")
    client.force_login(front_desk)

    def said(name, day, **query):
        page = client.get(reverse(name), {"date": day, **query}).content.decode()
        return page.count("gs-closed"), page

    count, page = said("scheduling:day", MONDAY)
    assert count == 1 and "The clinic is closed: Thanksgiving week" in page
    count, page = said("scheduling:day", MONDAY + timedelta(days=1))
    assert count == 1 and "East office is closed: Painting" in page
    assert said("scheduling:day", MONDAY + timedelta(days=1), location=office.pk)[0] == 0
    assert said("scheduling:day", MONDAY + timedelta(days=2))[0] == 0
    count, page = said("scheduling:week", MONDAY)
    assert count == 2
    count, page = said("scheduling:week", MONDAY, location=office.pk)
    assert count == 1 and "Painting" not in page
