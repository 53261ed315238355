"""Booking one appointment, a plan's series, free times and time off through the pages: every
refusal is a clear message on the page, nothing half-booked, never a 500."""

from datetime import timedelta

import pytest
from django.urls import reverse

from scheduling import services
from scheduling.models import Appointment, Kind, TimeOff
from tests.factories import PatientFactory, screen
from tests.scheduling.conftest import MONDAY, TZ, at, desk_actor
from tests.treatments.conftest import chart_session, make_plan
from treatments.models import PlanStatus

TUESDAY = MONDAY + timedelta(days=1)


@pytest.fixture
def record(db):
    patient = PatientFactory(legal_first_name="Ana", legal_last_name="Silva")
    screen(patient, sclerosant_allergy="no", untreated_varicose="no")
    return patient


@pytest.fixture
def desk(client, now, hours, front_desk):
    client.force_login(front_desk)
    return client


def post_booking(client, patient, **fields):
    data = {"kind": "consultation", "date": "2026-12-01", "time": "09:00", "notes": "", **fields}
    return client.post(reverse("scheduling:book", args=[patient.pk]), data)


def test_it_books_one_appointment_and_shows_it(desk, record, doctor):
    response = post_booking(desk, record, doctor=doctor.pk, notes="Prefers mornings")
    appointment = Appointment.objects.get()
    assert response.url == reverse("scheduling:appointment", args=[appointment.pk])
    assert appointment.starts_at == at(TUESDAY, 9)
    assert appointment.notes == "Prefers mornings"


def test_it_fills_the_form_from_a_free_time(desk, record, doctor):
    url = reverse("scheduling:book", args=[record.pk])
    response = desk.get(url, {"doctor": doctor.pk, "date": "2026-12-01", "time": "10:15"})
    assert 'value="10:15"' in response.content.decode()


def test_it_asks_for_the_office_only_when_there_is_a_choice(desk, record, doctor, office):
    from scheduling.models import Location

    url = reverse("scheduling:book", args=[record.pk])
    page = desk.get(url).content.decode()
    assert '<select name="location"' not in page
    assert f'<input type="hidden" name="location" value="{office.pk}"' in page
    Location.objects.create(name="East office", time_zone=TZ.key)
    page = desk.get(url).content.decode()
    assert '<select name="location"' in page


def booking_with_plan(client, plan, number, when="2026-12-01T09:00", **extra):
    day, time = when.split("T")
    return post_booking(
        client,
        plan.patient,
        kind="session",
        doctor=plan.doctor_id,
        plan=plan.pk,
        session_number=number,
        date=day,
        time=time,
        **extra,
    )


@pytest.mark.parametrize(
    ("when", "message"),
    [
        ("2026-12-01T06:00", "The doctor does not work at that time."),
        ("2026-12-05T10:00", "The doctor does not work at that time."),
        ("2026-11-27T10:00", "That time is in the past."),
        ("2026-03-08T02:30", "2:30 AM does not exist on Sunday, March 8, 2026"),
        ("2026-11-01T01:30", "1:30 AM happens twice on Sunday, November 1, 2026"),
    ],
)
def test_it_refuses_a_time_with_a_clear_message(desk, record, doctor, when, message):
    day, time = when.split("T")
    response = post_booking(desk, record, doctor=doctor.pk, date=day, time=time)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Appointment.objects.exists()


def test_it_refuses_an_overlapping_time(desk, record, doctor, front_desk):
    services.book_appointment(
        patient=PatientFactory(),
        doctor=doctor,
        kind=Kind.CONSULTATION,
        starts_at=at(TUESDAY, 9),
        by=desk_actor(front_desk),
    )
    response = post_booking(desk, record, doctor=doctor.pk, time="09:15")
    assert "The doctor is busy or off at that time." in response.content.decode()
    assert Appointment.objects.count() == 1


def test_it_refuses_a_stale_form_after_someone_else_took_the_slot(desk, record, doctor, client):
    url = reverse("scheduling:book", args=[record.pk])
    assert desk.get(url, {"doctor": doctor.pk, "date": "2026-12-01", "time": "09:00"}).status_code
    # Meanwhile another desk books that slot for someone else.
    other = PatientFactory()
    post_booking(desk, other, doctor=doctor.pk)
    response = post_booking(desk, record, doctor=doctor.pk)
    assert response.status_code == 200
    assert "The doctor is busy or off at that time." in response.content.decode()
    assert list(Appointment.objects.values_list("patient", flat=True)) == [other.pk]


def test_it_refuses_a_session_too_soon_after_the_previous_one(desk, record, doctor):
    plan = make_plan(record, doctor)
    chart_session(plan, doctor, treated_on=MONDAY - timedelta(days=7))
    response = booking_with_plan(desk, plan, 2)
    assert "Session 2 must be at least 4 weeks from session 1" in response.content.decode()
    assert not Appointment.objects.exists()


def test_it_refuses_a_session_of_a_plan_that_is_not_active(desk, record, doctor):
    plan = make_plan(record, doctor)
    plan.status, plan.stop_reason = PlanStatus.STOPPED, "Moved away"
    plan.save(update_fields=["status", "stop_reason"])
    response = booking_with_plan(desk, plan, 1)
    assert "This plan is not active" in response.content.decode()
    assert not Appointment.objects.exists()


def test_it_refuses_a_session_for_a_patient_with_an_absolute_contraindication(desk, record, doctor):
    plan = make_plan(record, doctor)
    screen(record, sclerosant_allergy="yes")
    response = booking_with_plan(desk, plan, 1)
    assert "absolute contraindication" in response.content.decode()
    assert not Appointment.objects.exists()


def test_it_asks_for_a_plan_and_a_session_number_for_a_session(desk, record, doctor):
    response = post_booking(desk, record, doctor=doctor.pk, kind="session")
    html = response.content.decode()
    assert "A sclerotherapy session belongs to a treatment plan." in html
    assert "Which session of the plan is this?" in html
    assert not Appointment.objects.exists()


def test_it_survives_garbage_input(desk, record, doctor):
    for data in (
        {"doctor": "x", "date": "2026-02-30", "time": "25:00"},
        {"doctor": 999999, "kind": "surgery", "session_number": "-1", "plan": "abc"},
        {},
    ):
        assert desk.post(reverse("scheduling:book", args=[record.pk]), data).status_code == 200
    assert not Appointment.objects.exists()


# The series


def test_it_proposes_the_remaining_sessions_of_a_plan(desk, record, doctor):
    plan = make_plan(record, doctor, sessions=4)
    chart_session(plan, doctor, treated_on=MONDAY - timedelta(days=30))
    response = desk.get(reverse("scheduling:book_series", args=[plan.pk]))
    rows = response.context["rows"]
    assert [number for number, *_ in rows] == [2, 3, 4]
    assert all(date_field.value() for _n, date_field, _t, _p in rows)


def series_data(action, **starts):
    data = {"action": action}
    for number, when in starts.items():
        day, time = when.split("T")
        data[f"date_{number[1:]}"], data[f"time_{number[1:]}"] = day, time
    return data


def test_it_checks_a_changed_series_again_without_booking(desk, record, doctor):
    plan = make_plan(record, doctor, sessions=3)
    url = reverse("scheduling:book_series", args=[plan.pk])
    data = series_data("check", s1="2026-12-01T09:00", s2="2026-12-15T09:00", s3="2027-01-26T20:00")
    response = desk.post(url, data)
    problems = {n: p for n, _d, _t, p in response.context["rows"] if p}
    assert (
        problems[2]
        == "Session 2 must be at least 4 weeks from session 1 (Tuesday, December 1, 2026)."
    )
    assert problems[3] == "The doctor does not work at that time."
    assert 1 not in problems
    assert not Appointment.objects.exists()


def test_it_books_the_whole_series_in_one_go(desk, record, doctor):
    plan = make_plan(record, doctor, sessions=3)
    url = reverse("scheduling:book_series", args=[plan.pk])
    data = series_data("book", s1="2026-12-01T09:00", s2="2026-12-29T09:00", s3="2027-01-26T09:00")
    response = desk.post(url, data)
    assert response.status_code == 302
    assert sorted(Appointment.objects.values_list("session_number", flat=True)) == [1, 2, 3]
    html = desk.get(url).content.decode()
    assert "Every session of this plan is booked or charted." in html


def test_it_books_nothing_of_a_series_when_one_session_fails(desk, record, doctor):
    plan = make_plan(record, doctor, sessions=3)
    data = series_data("book", s1="2026-12-01T09:00", s2="2026-12-29T09:00", s3="2027-01-05T09:00")
    response = desk.post(reverse("scheduling:book_series", args=[plan.pk]), data)
    assert response.status_code == 200
    assert "Session 3" in response.content.decode()
    assert "Nothing was booked." in response.content.decode()
    assert not Appointment.objects.exists()


def test_it_gives_a_form_error_for_a_series_time_on_a_dst_night(desk, record, doctor):
    plan = make_plan(record, doctor, sessions=2)
    data = series_data("book", s1="2026-03-08T02:30", s2="2026-11-01T01:30")
    html = desk.post(reverse("scheduling:book_series", args=[plan.pk]), data).content.decode()
    assert "does not exist on Sunday, March 8, 2026" in html
    assert "happens twice on Sunday, November 1, 2026" in html
    assert not Appointment.objects.exists()


def test_it_warns_that_a_stopped_plan_cannot_be_booked(desk, record, doctor):
    plan = make_plan(record, doctor, sessions=2)
    plan.status, plan.stop_reason = PlanStatus.STOPPED, "Moved away"
    plan.save(update_fields=["status", "stop_reason"])
    url = reverse("scheduling:book_series", args=[plan.pk])
    assert "This plan is not active" in desk.get(url).content.decode()
    data = series_data("book", s1="2026-12-01T09:00")
    assert "This plan is not active" in desk.post(url, data).content.decode()
    assert not Appointment.objects.exists()


# Free times


def test_it_lists_free_times_by_day_with_book_buttons(desk, record, doctor):
    response = desk.get(
        reverse("scheduling:slots"),
        {"kind": "consultation", "first_day": "2026-11-30", "last_day": "2026-12-01",
         "patient": record.pk},
    )  # fmt: skip
    days = dict(response.context["days"])
    assert set(days) == {MONDAY, TUESDAY}
    assert days[MONDAY][0].starts_at == at(MONDAY, 8)
    html = response.content.decode()
    assert "08:00" in html
    assert reverse("scheduling:book", args=[record.pk]) + "?kind=consultation" in html


def search_for(desk, who: str, **extra):
    query = {"kind": "consultation", "first_day": "2026-11-30", "last_day": "2026-11-30"}
    return desk.get(reverse("scheduling:slots"), {**query, "who": who, **extra})


def test_it_finds_the_patient_by_name_and_offers_to_book_for_them(desk, record, doctor):
    response = search_for(desk, "silva ana")
    assert response.context["patient"] == record
    html = response.content.decode()
    assert "Booking for Ana Silva." in html
    assert reverse("scheduling:book", args=[record.pk]) + "?kind=consultation" in html


def test_it_asks_which_patient_when_a_name_matches_several(desk, record, doctor):
    namesake = PatientFactory(legal_first_name="Ana", legal_last_name="Silvano")
    response = search_for(desk, "Ana Silv")
    html = response.content.decode()
    assert "Which patient?" in html
    assert response.context["patient"] is None
    assert reverse("scheduling:book", args=[record.pk]) not in html  # no Book buttons yet
    choices = dict((p.pk, query) for p, query in response.context["matches"])
    assert set(choices) == {record.pk, namesake.pk}
    assert f"patient={namesake.pk}" in choices[namesake.pk] and "who=" not in choices[namesake.pk]
    chosen = desk.get(reverse("scheduling:slots") + choices[namesake.pk])
    assert chosen.context["patient"] == namesake
    assert "kind=consultation" in choices[namesake.pk]  # the rest of the search is kept


def test_it_says_so_when_no_patient_matches(desk, record, doctor):
    response = search_for(desk, "Nobody Atall")
    assert response.status_code == 200
    assert "No patient matches “Nobody Atall”." in response.content.decode()
    assert "results" not in response.context


def test_it_says_so_when_the_address_carries_a_broken_patient_number(desk, doctor):
    response = search_for(desk, "", patient="abc")
    assert response.status_code == 200
    assert "The patient in this address is not valid" in response.content.decode()


def test_it_asks_for_more_of_the_name_when_many_patients_match(desk, doctor):
    for n in range(12):
        PatientFactory(legal_first_name="Maria", legal_last_name=f"Lopez{n}")
    response = search_for(desk, "maria lopez")
    assert "Many patients match “maria lopez”: type more of the name." in (
        response.content.decode()
    )
    assert len(response.context["matches"]) == 10


def test_it_needs_a_patient_with_an_active_plan_to_search_session_times(desk, doctor):
    response = desk.get(
        reverse("scheduling:slots"),
        {"kind": "session", "first_day": "2026-11-30", "last_day": "2026-12-01"},
    )
    assert "A session needs a patient with an active plan." in response.content.decode()


def test_it_refuses_a_search_that_ends_before_it_starts(desk, doctor):
    response = desk.get(
        reverse("scheduling:slots"),
        {"kind": "review", "first_day": "2026-12-05", "last_day": "2026-12-01"},
    )
    assert "The last day is before the first." in response.content.decode()


# Time off


def post_time_off(client, **fields):
    data = {"date": "2026-12-02", "starts": "13:00", "ends": "17:00", "reason": "Training"}
    return client.post(reverse("scheduling:time_off"), {**data, **fields})


def test_it_lets_a_doctor_block_their_own_afternoon(client, now, hours, doctor):
    client.force_login(doctor)
    assert post_time_off(client, doctor=doctor.pk).status_code == 302
    off = TimeOff.objects.get()
    assert (off.doctor, off.starts_at, off.ends_at) == (
        doctor,
        at(MONDAY + timedelta(days=2), 13),
        at(MONDAY + timedelta(days=2), 17),
    )


def test_it_keeps_a_doctor_from_blocking_another_doctors_time(
    client, now, hours, doctor, other_doctor
):
    client.force_login(doctor)
    response = post_time_off(client, doctor=other_doctor.pk)
    assert response.status_code == 200
    assert not TimeOff.objects.exists()


def test_it_lets_the_front_desk_block_any_doctors_time(desk, other_doctor):
    assert post_time_off(desk, doctor=other_doctor.pk).status_code == 302
    assert TimeOff.objects.get().doctor == other_doctor


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"starts": "15:00", "ends": "14:00"}, "The end must be after the start."),
        ({"date": "2027-03-14", "starts": "02:30", "ends": "04:00"}, "does not exist"),
        ({"date": "2026-11-01", "starts": "00:00", "ends": "01:30"}, "happens twice"),
    ],
)
def test_it_refuses_time_off_that_makes_no_sense(desk, doctor, fields, message):
    response = post_time_off(desk, doctor=doctor.pk, **fields)
    assert message in response.content.decode()
    assert not TimeOff.objects.exists()


# Issue 17, point 2: free times that fit on a screen


def compact(desk, record, **extra):
    query = {"kind": "consultation", "first_day": "2026-11-30", "last_day": "2026-12-11"}
    return desk.get(reverse("scheduling:slots"), {**query, "patient": record.pk, **extra})


def test_the_first_free_time_is_answered_at_the_top(desk, record, doctor):
    response = compact(desk, record)
    first = response.context["first_free"]
    assert first.starts_at == at(MONDAY, 8)
    html = response.content.decode()
    assert "First free time:" in html and "Book it" in html
    assert html.index("First free time:") < html.index("Tuesday, December 1, 2026")


def test_each_doctors_day_shows_a_few_times_and_the_rest_behind_more(
    desk, record, doctor, other_doctor, office
):
    from tests.scheduling.conftest import work_weekdays

    work_weekdays(other_doctor, office)
    response = compact(desk, record)
    html = response.content.decode()
    day, count, rows = response.context["by_doctor"][0]
    assert day == MONDAY and len(rows) == 2  # one row per doctor
    assert all(len(row.shown) <= 6 for row in rows) and all(row.more for row in rows)
    assert count == sum(len(row.shown) + len(row.more) for row in rows)
    # At most 6 visible times per doctor and day; the others behind "more".
    visible = html.split("<details")[0].count('class="btn btn-sm btn-outline-primary gs-slot"')
    assert visible <= 6 * 2
    rows_with_more = sum(
        1 for _d, _n, rows in response.context["by_doctor"] for r in rows if r.more
    )
    assert html.count("<details") == rows_with_more > 2
    assert "more</summary>" in html


@pytest.mark.parametrize(
    ("part", "hour_range"), [("morning", range(0, 12)), ("afternoon", range(12, 24))]
)
def test_the_time_of_day_filter_keeps_the_morning_or_the_afternoon(
    desk, record, doctor, part, hour_range
):
    days = dict(compact(desk, record, part=part).context["days"])
    assert days
    local_hours = {slot.starts_at.astimezone(TZ).hour for s in days.values() for slot in s}
    assert local_hours and local_hours <= set(hour_range)


def test_a_bad_time_of_day_is_refused_on_the_page(desk, record, doctor):
    response = compact(desk, record, part="midnight")
    assert response.status_code == 200
    assert response.context["form"].errors["part"]
