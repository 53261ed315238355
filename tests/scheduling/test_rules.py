"""The booking rules (scheduling/rules.py): each rule and its message on facts made by hand, no
database; then, for random clinic set-ups, the free-time search and the booking services
agreeing: every time offered books, and a time the rules refuse is refused by the service in
the same words."""

import itertools
from collections import defaultdict
from datetime import date, time, timedelta
from types import SimpleNamespace

import pytest
from django.db import IntegrityError, transaction
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from goodskin.actors import Actor
from goodskin.roles import Role
from patients.models import Patient
from scheduling import gate, rules, services
from scheduling.clock import instant, seconds
from scheduling.models import (
    Appointment,
    ClosedDay,
    Kind,
    Location,
    Room,
    SchedulingSettings,
    TimeOff,
    WorkingHours,
)
from scheduling.rules import Reason, Refusal, Session
from scheduling.slots import Calendar, Timeline, free_slots
from tests.factories import PatientFactory, UserFactory, screen
from tests.scheduling.conftest import MONDAY, TZ, at, desk_actor
from tests.treatments.conftest import make_plan
from treatments.models import PlanStatus, TreatmentPlan

MINUTE, DAY, WEEK = timedelta(minutes=1), timedelta(days=1), timedelta(weeks=1)
NOW = at(MONDAY, 7)
DOCTOR, OTHER = 1, 2
ROOM_1, ROOM_2 = Room(pk=11, name="Room 1"), Room(pk=12, name="Room 2")


def calendar(*, hours=((8, 0), (17, 0)), taken=(), off=(), rooms=(ROOM_1, ROOM_2), buffer=5):
    """A calendar made by hand, as Calendar.load would read it: DOCTOR works `hours` every
    weekday; `taken` are (doctor id, room, start, end) appointments, `off` DOCTOR's time off."""
    cal = Calendar(
        location=Location(name="Office", time_zone=TZ.key),
        buffer=buffer * MINUTE,
        hours=defaultdict(lambda: defaultdict(list)),
        doctor_busy={DOCTOR: Timeline(), OTHER: Timeline()},
        room_busy={room.pk: Timeline() for room in rooms},
        rooms=list(rooms),
    )
    for weekday in range(5):
        cal.hours[DOCTOR][weekday].append((time(*hours[0]), time(*hours[1])))
    for doctor_id, room, start, end in taken:
        cal.take(doctor_id, room, start, end)
    for start, end in off:
        cal.doctor_busy[DOCTOR].add(seconds(start), seconds(end, up=True))
    return cal


def plan(**changes) -> TreatmentPlan:
    fields = {"patient_id": 7, "status": PlanStatus.ACTIVE, "sessions_planned": 4}
    return TreatmentPlan(**{**fields, "interval_weeks": 4, **changes})


PATIENT = SimpleNamespace(pk=7, merged_into_id=None)


def check(cal, start, minutes=20, **facts):
    facts = {"patient": PATIENT, "now": NOW, **facts}
    problem = rules.refusal(
        cal, doctor_id=DOCTOR, starts_at=start, ends_at=start + minutes * MINUTE, **facts
    )
    return str(problem) if problem else None


# --- Each rule and its message --------------------------------------------------------------


def test_it_refuses_a_time_not_after_now_as_past():
    assert str(rules.in_future(NOW, NOW)) == "That time is in the past."
    assert rules.in_future(NOW + timedelta(seconds=1), NOW) is None
    assert check(calendar(), at(MONDAY, 6, 59)) == "That time is in the past."


def test_the_search_starts_at_the_first_whole_second_after_now():
    assert rules.earliest_start(NOW) == seconds(NOW) + 1
    assert rules.earliest_start(NOW + timedelta(milliseconds=400)) == seconds(NOW) + 1


def test_it_refuses_a_record_merged_into_another():
    merged = SimpleNamespace(pk=7, merged_into_id=8)
    assert check(calendar(), at(MONDAY, 9), patient=merged) == (
        "This patient record was merged into another one."
    )


@pytest.mark.parametrize(
    ("changes", "number", "blockers", "message"),
    [
        ({"patient_id": 8}, 1, "", "That plan belongs to another patient."),
        (
            {"status": PlanStatus.DRAFT},
            1,
            "",
            "This plan is not active, so no session can be booked.",
        ),
        (
            {"status": PlanStatus.STOPPED},
            1,
            "",
            "This plan is not active, so no session can be booked.",
        ),
        ({}, 5, "", "This plan has 4 sessions."),
        ({}, 0, "", "This plan has 4 sessions."),
        (
            {},
            1,
            "Pregnant",
            "Treatment is blocked: Pregnant. A doctor can override this, with a reason, on the "
            "plan's page.",
        ),
        ({}, 4, "", None),
    ],
)
def test_it_books_a_session_only_of_the_patients_active_plan_unscreened_out(
    changes, number, blockers, message
):
    session = Session(plan=plan(**changes), number=number, blockers=blockers)
    assert check(calendar(), at(MONDAY, 9), session=session) == message


def test_it_names_what_stops_a_whole_plan():
    assert str(rules.plan_blocker(plan(status=PlanStatus.DRAFT), blockers="Pregnant")) == (
        "This plan is not active, so no session can be booked."
    )
    assert str(rules.plan_blocker(plan(), blockers="Pregnant")) == (
        "Treatment is blocked: Pregnant. A doctor can override this, with a reason, on the "
        "plan's page."
    )
    assert rules.plan_blocker(plan(), blockers="") is None


def test_it_keeps_a_plans_sessions_the_interval_apart_on_clinic_days():
    first_day = MONDAY + WEEK
    session = Session(plan=plan(), number=2, blockers="", others=[(1, first_day)])
    assert str(rules.gap(session, first_day + 27 * DAY)) == (
        "Session 2 must be at least 4 weeks from session 1 (Monday, December 7, 2026)."
    )
    assert rules.gap(session, first_day + 28 * DAY) is None
    assert str(rules.gap(session, first_day - 27 * DAY)).endswith(
        "from session 1 (Monday, December 7, 2026)."
    )
    # Late in the evening in Oregon is already the next day in UTC: the clinic's day counts.
    late = instant(first_day + 27 * DAY, time(20), TZ)
    assert late.date() == first_day + 28 * DAY
    cal = calendar(hours=((8, 0), (21, 0)))
    assert check(cal, late, session=session).startswith("Session 2 must be at least 4 weeks")


def test_a_staff_move_checks_only_the_sessions_before_it_and_a_session_not_itself():
    others = [(1, MONDAY), (2, MONDAY + 2 * WEEK), (3, MONDAY + 5 * WEEK)]
    moving = Session(plan=plan(), number=2, blockers="", others=others, earlier_only=True)
    assert rules.gap(moving, MONDAY + 4 * WEEK) is None  # session 3 moves with it
    both_ways = Session(plan=plan(), number=2, blockers="", others=others)
    assert str(rules.gap(both_ways, MONDAY + 4 * WEEK)).endswith(
        "from session 3 (Monday, January 4, 2027)."
    )
    alone = Session(plan=plan(), number=1, blockers="", others=[(1, MONDAY)])
    assert rules.gap(alone, MONDAY + DAY) is None


def test_the_search_starts_a_session_the_interval_after_the_last_one():
    assert rules.first_day_after([MONDAY, MONDAY + WEEK], 2) == MONDAY + 3 * WEEK
    assert rules.first_day_after([], 2) is None


def test_a_patient_moves_only_beyond_the_notice_period():
    assert str(rules.with_notice(NOW + 24 * timedelta(hours=1), NOW, 24)) == (
        "Choose a time more than 24 hours from now."
    )
    assert rules.with_notice(NOW + timedelta(hours=24, seconds=1), NOW, 24) is None


@pytest.mark.parametrize(
    "start",
    [at(MONDAY, 7, 55), at(MONDAY, 16, 45), at(MONDAY + 5 * DAY, 10)],
    ids=["before", "past-the-end", "saturday"],
)
def test_it_refuses_a_time_outside_the_working_hours(start):
    assert check(calendar(), start) == "The doctor does not work at that time."


def test_it_keeps_the_buffer_around_appointments_but_not_around_time_off():
    cal = calendar(
        taken=[(DOCTOR, ROOM_1, at(MONDAY, 9), at(MONDAY, 9, 30))],
        off=[(at(MONDAY, 12), at(MONDAY, 13))],
    )
    busy = "The doctor is busy or off at that time."
    assert check(cal, at(MONDAY, 9, 30)) == busy  # inside the 5-minute buffer
    assert check(cal, at(MONDAY, 8, 40)) == busy  # ends inside the buffer before
    assert check(cal, at(MONDAY, 9, 35)) is None
    assert check(cal, at(MONDAY, 8, 35)) is None
    assert check(cal, at(MONDAY, 12, 30)) == busy
    assert check(cal, at(MONDAY, 11, 40)) is None  # ends as the time off begins
    assert check(cal, at(MONDAY, 13)) is None


def test_it_needs_a_room_free_with_its_buffer_and_takes_the_first_by_name():
    cal = calendar(taken=[(OTHER, ROOM_1, at(MONDAY, 9), at(MONDAY, 9, 30))])
    start, end = at(MONDAY, 9, 30), at(MONDAY, 9, 50)
    assert rules.free_room(cal, start, end) == ROOM_2
    assert rules.free_room(cal, at(MONDAY, 9, 35), at(MONDAY, 9, 55)) == ROOM_1
    assert check(cal, start, room=ROOM_1) == "No room is free at that time."
    full = calendar(
        taken=[(OTHER, room, at(MONDAY, 9), at(MONDAY, 9, 30)) for room in (ROOM_1, ROOM_2)]
    )
    assert check(full, start) == "No room is free at that time."


def test_it_offers_no_working_hours_that_begin_in_the_hour_a_dst_night_skips():
    spring = date(2027, 3, 14)  # 02:00 to 03:00 does not exist in Oregon that night
    cal = calendar(hours=((2, 30), (17, 0)))
    cal.hours[DOCTOR][spring.weekday()] = [(time(2, 30), time(17, 0))]
    assert rules.working_blocks(cal, DOCTOR, spring, TZ) == []
    noon = instant(spring, time(12), TZ)
    assert check(cal, noon, now=noon - DAY) == "The doctor does not work at that time."


def test_it_gives_the_first_problem_in_the_order_a_person_fixes_them():
    saturday = at(MONDAY - 2 * DAY, 10)
    inactive = Session(plan=plan(status=PlanStatus.DRAFT), number=1, blockers="Pregnant")
    assert check(calendar(), saturday, session=inactive) == "That time is in the past."
    too_close = Session(plan=plan(), number=2, blockers="", others=[(1, MONDAY)])
    assert check(calendar(), at(MONDAY + 5 * DAY, 10), session=too_close).startswith(
        "Session 2 must be"
    )


def test_a_refusal_is_translated_when_shown():
    from django.utils import translation

    refusal = Refusal(Reason.NO_ROOM)
    with translation.override("es"):
        assert str(refusal) == str(Reason.NO_ROOM.label)
    assert str(refusal) == "No room is free at that time."


# --- The search's form of the calendar rules, on random calendars ---------------------------

minute_of_day = st.integers(min_value=6 * 12, max_value=19 * 12).map(lambda n: n * 5)
working_minute = st.integers(min_value=8 * 12, max_value=16 * 12).map(lambda n: n * 5)
weekdays = st.sampled_from([1, 2, 3, 4, 0])
mostly = st.sampled_from([True, True, True, False])


def at_minute(day: date, minutes: int):
    return at(day, minutes // 60, minutes % 60)


@st.composite
def hand_calendars(draw):
    begin = draw(st.integers(min_value=7 * 4, max_value=10 * 4)) * 15
    end = begin + draw(st.integers(min_value=2 * 4, max_value=9 * 4)) * 15
    rooms = [ROOM_1, ROOM_2][: draw(st.integers(min_value=1, max_value=2))]
    taken = []
    for _ in range(draw(st.integers(min_value=0, max_value=8))):
        start = at_minute(MONDAY, draw(minute_of_day))
        length = draw(st.sampled_from([10, 15, 20, 30, 45])) * MINUTE
        who, room = draw(st.sampled_from([DOCTOR, OTHER])), draw(st.sampled_from(rooms))
        taken.append((who, room, start, start + length))
    off = []
    if draw(st.booleans()):
        start = at_minute(MONDAY, draw(minute_of_day))
        off.append((start, start + draw(st.integers(min_value=1, max_value=24)) * 10 * MINUTE))
    cal = calendar(
        hours=((begin // 60, begin % 60), (end // 60, end % 60)),
        taken=taken,
        off=off,
        rooms=rooms,
        buffer=draw(st.sampled_from([0, 5, 10])),
    )
    if draw(st.sampled_from([False, False, False, True])):
        cal.closed = frozenset({MONDAY})  # a holiday: nothing offered, everything refused
    return cal, at_minute(MONDAY, begin), at_minute(MONDAY, end)


@settings(max_examples=150, deadline=None)
@given(
    made=hand_calendars(),
    length=st.sampled_from([15, 20, 25, 30]),
    step=st.sampled_from([5, 10, 15]),
    now_minute=minute_of_day,
)
def test_the_search_offers_exactly_the_grid_times_the_rules_accept(made, length, step, now_minute):
    cal, block_start, block_end = made
    now = at_minute(MONDAY, now_minute) + timedelta(seconds=1)
    offered = dict(
        rules.free_starts(cal, DOCTOR, MONDAY, length * 60, step * 60, rules.earliest_start(now))
    )
    start = block_start
    while start + length * MINUTE <= block_end:
        problem = check(cal, start, minutes=length, now=now)
        room = rules.free_room(cal, start, start + length * MINUTE)
        assert (seconds(start) in offered) == (problem is None), (start, problem)
        if problem is None:
            assert offered[seconds(start)] == room
        start += step * MINUTE


# --- The search and the services agree, on random clinics -----------------------------------

names = itertools.count()
KINDS = {Kind.CONSULTATION: 30, Kind.REVIEW: 15, Kind.TOUCH_UP: 25}


def set_up(data, office, *, sessions_booked: int = 0) -> SimpleNamespace:
    """A fresh clinic for one example: new doctors and rooms (earlier examples' rooms taken
    out of use, so their appointments don't count), random hours, appointments, time off,
    now and then a closed day, buffer and grid, and a plan with some sessions booked."""
    Room.objects.filter(location=office).update(active=False)
    rooms = [
        Room.objects.create(location=office, name=f"Room {next(names)}")
        for _ in range(data.draw(st.integers(min_value=1, max_value=2), label="rooms"))
    ]
    SchedulingSettings.objects.filter(pk=1).update(
        buffer_minutes=data.draw(st.sampled_from([0, 5, 10]), label="buffer"),
        slot_step_minutes=data.draw(st.sampled_from([5, 15, 30]), label="step"),
    )
    doctors = []
    for _ in range(data.draw(st.integers(min_value=1, max_value=2), label="doctors")):
        doctor = UserFactory(username=f"dr.rules{next(names)}", role=Role.DOCTOR)
        begin = data.draw(st.integers(min_value=7, max_value=10), label="from")
        end = data.draw(st.integers(min_value=15, max_value=18), label="until")
        WorkingHours.objects.bulk_create(
            WorkingHours(
                doctor=doctor, location=office, weekday=d, starts=time(begin), ends=time(end)
            )
            for d in range(5)
        )
        doctors.append(doctor)
    patient, taken = PatientFactory(), []
    for _ in range(data.draw(st.integers(min_value=0, max_value=8), label="appointments")):
        start = at_minute(MONDAY + data.draw(weekdays) * DAY, data.draw(working_minute))
        length = data.draw(st.sampled_from([15, 20, 30, 45])) * MINUTE
        try:
            with transaction.atomic():  # one PostgreSQL refuses (an overlap) is left out
                made = Appointment.objects.create(
                    patient=patient,
                    doctor=data.draw(st.sampled_from(doctors)),
                    location=office,
                    room=data.draw(st.sampled_from(rooms)),
                    kind=Kind.CONSULTATION,
                    starts_at=start,
                    ends_at=start + length,
                )
        except IntegrityError:
            continue
        taken.append(made)
    if data.draw(st.booleans(), label="time off"):
        start = at_minute(MONDAY + data.draw(weekdays) * DAY, data.draw(minute_of_day))
        hours = data.draw(st.integers(min_value=1, max_value=30)) * timedelta(hours=1)
        TimeOff.objects.create(doctor=doctors[0], starts_at=start, ends_at=start + hours)
    ClosedDay.objects.all().delete()  # an earlier example's closed day
    if data.draw(st.sampled_from([False, False, True]), label="a closed day"):
        ClosedDay.objects.create(day=MONDAY + data.draw(st.integers(0, 27), label="closed") * DAY)
    plan = plan_for(data, office, sessions_booked=sessions_booked)
    return SimpleNamespace(doctors=doctors, taken=taken, plan=plan)


def candidate(data, clinic):
    """A time to book: mostly near an appointment already there (where the buffer, the busy
    doctor and the full rooms are), else anywhere in the week, now and then in the past."""
    if clinic.taken and data.draw(st.booleans(), label="near an appointment"):
        other = data.draw(st.sampled_from(clinic.taken))
        return other.starts_at + data.draw(st.integers(-9, 9), label="minutes off") * 5 * MINUTE
    day = MONDAY + data.draw(st.sampled_from([1, 2, 3, 4, 0, 5, -1]), label="day") * DAY
    return at_minute(day, data.draw(minute_of_day))


def plan_for(data, office, *, sessions_booked: int) -> TreatmentPlan:
    """A plan of a fresh patient with its own doctor, some sessions booked in the weeks
    ahead, and a random state: active or not, screened out or not, 1 to 3 weeks apart."""
    doctor = UserFactory(username=f"dr.plan{next(names)}", role=Role.DOCTOR)
    WorkingHours.objects.bulk_create(
        WorkingHours(doctor=doctor, location=office, weekday=d, starts=time(8), ends=time(17))
        for d in range(5)
    )
    patient = PatientFactory()
    screen(patient, sclerosant_allergy="no", untreated_varicose="no")
    made = make_plan(patient, doctor, sessions=4, start=data.draw(mostly, label="active"))
    weeks = data.draw(st.integers(min_value=1, max_value=3), label="interval")
    TreatmentPlan.objects.filter(pk=made.pk).update(interval_weeks=weeks)
    if not data.draw(mostly, label="screening clear"):
        screen(patient, infection="yes")
    room = Room.objects.filter(location=office, active=True).first()
    numbers = st.sets(st.integers(1, 4), min_size=sessions_booked, max_size=2)
    for number in data.draw(numbers, label="booked sessions"):
        start = at(MONDAY + data.draw(st.integers(2, 20)) * DAY, 8) + number * 20 * MINUTE
        try:
            with transaction.atomic():  # left out if the room is taken then
                Appointment.objects.create(
                    patient=patient,
                    doctor=doctor,
                    location=office,
                    room=room,
                    kind=Kind.SESSION,
                    plan=made,
                    session_number=number,
                    starts_at=start,
                    ends_at=start + 20 * MINUTE,
                )
        except IntegrityError:
            continue
    return TreatmentPlan.objects.select_related("patient", "doctor").get(pk=made.pk)


def expected(office, *, patient, doctor, starts_at, minutes, plan=None, number=None, moving=None):
    """What the rules say of a booking (or of a patient moving `moving`), from the facts read
    as the service reads them."""
    from scheduling.services.common import session_days

    settings_row = SchedulingSettings.current()
    if moving is not None:
        notice = rules.with_notice(starts_at, NOW, settings_row.patient_notice_hours)
        if notice is not None:
            return str(notice)
    exclude_id = moving.pk if moving else None
    ends_at = starts_at + minutes * MINUTE
    cal = Calendar.load(
        doctor_ids=[doctor.pk],
        location=office,
        start=starts_at,
        end=ends_at,
        buffer=settings_row.buffer_minutes * MINUTE,
        exclude_id=exclude_id,
    )
    session = None
    if plan is not None:
        session = Session(
            plan=plan,
            number=number,
            blockers=gate.session_blockers(plan, [number]).get(number, ""),
            others=session_days(plan, TZ, exclude_id=exclude_id),
        )
    problem = rules.refusal(
        cal,
        doctor_id=doctor.pk,
        starts_at=starts_at,
        ends_at=ends_at,
        now=NOW,
        patient=patient,
        session=session,
    )
    return str(problem) if problem else None


def outcome(call) -> str | None:
    """None if the service booked; its message if it refused."""
    try:
        with transaction.atomic():  # a refusal inside leaves the test's transaction usable
            call()
    except services.BookingError as error:
        return str(error)
    return None


CLINICS = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@CLINICS
@given(data=st.data())
def test_every_free_time_offered_books_and_a_refused_time_gets_the_rules_message(
    now, office, front_desk, data
):
    clinic, by = set_up(data, office), desk_actor(front_desk)
    kind = data.draw(st.sampled_from(sorted(KINDS)), label="kind")
    # Any time, offered or not: the service says what the rules say.
    doctor, patient = data.draw(st.sampled_from(clinic.doctors)), PatientFactory()
    starts_at = candidate(data, clinic)
    said = expected(
        office, patient=patient, doctor=doctor, starts_at=starts_at, minutes=KINDS[kind]
    )
    booked = outcome(
        lambda: services.book_appointment(
            patient=patient, doctor=doctor, kind=kind, starts_at=starts_at, by=by
        )
    )
    assert booked == said
    event(f"a time: {said or 'booked'}")
    # A time the search offers books, in the room it offered.
    grid = SchedulingSettings.current()
    offered = free_slots(
        doctor_ids=[d.pk for d in clinic.doctors],
        location=office,
        first_day=MONDAY,
        last_day=MONDAY + 4 * DAY,
        minutes=KINDS[kind],
        step_minutes=grid.slot_step_minutes,
        buffer_minutes=grid.buffer_minutes,
    )
    event(f"times offered: {bool(offered)}")
    if offered:
        slot = data.draw(st.sampled_from(offered), label="offered")
        appointment = services.book_appointment(
            patient=PatientFactory(), doctor=slot.doctor, kind=kind, starts_at=slot.starts_at, by=by
        )
        assert (appointment.starts_at, appointment.room) == (slot.starts_at, slot.room)


@CLINICS
@given(data=st.data())
def test_a_plans_session_books_where_the_rules_let_it_and_a_proposed_series_books(
    now, office, front_desk, data
):
    clinic, by = set_up(data, office), desk_actor(front_desk)
    plan = clinic.plan
    number = data.draw(st.integers(1, 5), label="session")
    starts_at = at_minute(MONDAY + data.draw(st.integers(0, 27)) * DAY, data.draw(working_minute))
    said = expected(
        office,
        patient=plan.patient,
        doctor=plan.doctor,
        starts_at=starts_at,
        minutes=plan.session_minutes,
        plan=plan,
        number=number,
    )
    booked = outcome(
        lambda: services.book_appointment(
            patient=plan.patient,
            doctor=plan.doctor,
            kind=Kind.SESSION,
            starts_at=starts_at,
            plan=plan,
            session_number=number,
            by=by,
        )
    )
    assert booked == said
    event(f"a session: {said and said[:40] or 'booked'}")
    # The times proposed for the rest of the plan book as a series, or the plan's blocker is
    # the reason they don't.

    starts = {p.number: p.starts_at for p in services.propose_series(plan=plan) if p.starts_at}
    if not starts:
        return
    blocker = rules.plan_blocker(plan, blockers=gate.plan_blockers(plan))
    series = outcome(lambda: services.book_series(plan=plan, starts=starts, by=by))
    event(f"a proposed series: {series or 'booked'}")
    if blocker is None:
        assert series is None
        assert set(plan.appointments.values_list("session_number", flat=True)) >= set(starts)
    else:
        first = min(starts, key=starts.get)
        assert series == f"Session {first}: {blocker} Nothing was booked."


@CLINICS
@given(data=st.data())
def test_every_time_offered_to_a_patient_moving_a_session_moves_it(now, office, data):
    clinic = set_up(data, office, sessions_booked=1)
    plan = clinic.plan
    later = plan.appointments.filter(starts_at__gt=NOW + timedelta(hours=25))
    if not later.exists():
        return
    user = UserFactory(username=f"pat.rules{next(names)}", role=Role.PATIENT)
    Patient.objects.filter(pk=plan.patient_id).update(portal_user=user)
    by = Actor(user=user, role=Role.PATIENT)
    pick = data.draw(st.sampled_from(list(later.values_list("pk", flat=True))), label="session")
    mine = Appointment.objects.select_related("patient", "plan", "location").get(pk=pick)
    # Any time: the service says what the rules say (the notice first, the gap both ways).
    starts_at = at_minute(MONDAY + data.draw(st.integers(0, 27)) * DAY, data.draw(working_minute))
    said = expected(
        office,
        patient=mine.patient,
        doctor=mine.doctor,
        starts_at=starts_at,
        minutes=20,
        plan=mine.plan,
        number=mine.session_number,
        moving=mine,
    )
    moved = outcome(lambda: services.patient_move(appointment=mine, starts_at=starts_at, by=by))
    assert moved == said
    event(f"a patient's move: {said and said[:40] or 'moved'}")
    # Every time offered moves it.
    mine = Appointment.objects.select_related("patient", "plan", "location").get(pk=pick)
    options = services.patient_move_options(mine)
    event(f"times offered to the patient: {bool(options)}")
    if options:
        slot = data.draw(st.sampled_from(options), label="offered")
        services.patient_move(appointment=mine, starts_at=slot.starts_at, by=by)
        mine.refresh_from_db()
        assert mine.starts_at == slot.starts_at


@pytest.mark.parametrize(
    ("second", "problem"),
    [
        (at(MONDAY + 2 * WEEK, 9), "Session 2 must be at least 4 weeks from session 1"),
        (at(MONDAY + 5 * WEEK + 5 * DAY, 9), "The doctor does not work at that time."),
        (at(MONDAY + 5 * WEEK, 9, 10), "The doctor is busy or off at that time."),
        (at(MONDAY + 5 * WEEK, 11), "No room is free at that time."),
    ],
    ids=["gap", "hours", "busy", "room"],
)
def test_the_series_dry_run_says_what_booking_the_series_says(
    now, hours, front_desk, doctor, other_doctor, second, problem
):
    from scheduling import selectors
    from tests.scheduling.conftest import work_weekdays

    patient = PatientFactory()
    screen(patient, sclerosant_allergy="no", untreated_varicose="no")
    plan = make_plan(patient, doctor, sessions=2)
    work_weekdays(other_doctor, hours)
    desk = desk_actor(front_desk)
    services.book_appointment(
        patient=PatientFactory(),
        doctor=doctor,
        kind=Kind.CONSULTATION,
        starts_at=at(MONDAY + 5 * WEEK, 9),
        by=desk,
    )
    Room.objects.filter(name="Room 2").update(active=False)  # one room: the other doctor's
    services.book_appointment(
        patient=PatientFactory(),
        doctor=other_doctor,
        kind=Kind.REVIEW,
        starts_at=at(MONDAY + 5 * WEEK, 11),
        by=desk,
    )
    starts = {1: at(MONDAY + WEEK, 9), 2: second}
    said = selectors.series_problems(plan, starts)
    assert list(said) == [2] and said[2].startswith(problem)
    with pytest.raises(services.BookingError) as refused:
        services.book_series(plan=plan, starts=starts, by=desk)
    assert str(refused.value) == f"Session 2: {said[2]} Nothing was booked."
