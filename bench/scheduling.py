#!/usr/bin/env python
"""Scheduling at clinic scale: 100,000 patients, 8 doctors, 1,000,000 appointments.

Measures, in process and against a real PostgreSQL database of its own (goodskin_bench_sched,
created and seeded once, then reused):
  1. the day view for 8 doctors (test client, logged in as the front desk), server time;
  2. free-slot search over 90 days for one doctor (scheduling.slots.free_slots);
  3. booking a 6-session series for a fresh active plan (propose_series, then book_series);
  4. booking throughput: 16 threads, each with its own connection, booking distinct free
     times through book_appointment for a fixed time;
  5. the patient record page (test client, front desk) of the patients with the longest
     histories, each with an active 6-session plan booked, and the free-time page (the usual
     two weeks, every doctor, compact layout), server time (issue 17).
Each run first removes what the previous run booked, so runs start from the same calendar.
Usage: .venv/bin/python bench/scheduling.py [--requests 100] [--series 30] [--seconds 10]
       [--pages-only: the day, week, record and free-time pages only]
       [--seed-only: create and seed the database, measure nothing]

A smaller database of the same shape (same doctors, rooms, plans and calendar, the days nearest
today first) for the load harness's growth run (issue 19): BENCH_PATIENTS and
BENCH_APPOINTMENTS give the counts, DATABASE_URL the database, e.g.
    BENCH_PATIENTS=1000 BENCH_APPOINTMENTS=10000 \
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/goodskin_bench_10k \
    .venv/bin/python bench/scheduling.py --seed-only
"""

import argparse
import datetime as dt
import os
import platform
import random
import statistics
import sys
import threading
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "goodskin.settings_test")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/goodskin_bench_sched")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")

import django  # noqa: E402
from benchdb import apart_free_times, ensure_database  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, connections, models, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import Resolver404, resolve  # noqa: E402
from django.utils import timezone  # noqa: E402

from goodskin import two_factor  # noqa: E402
from goodskin.actors import Actor  # noqa: E402
from goodskin.roles import Role, group_for  # noqa: E402
from patients.models import Patient, fold  # noqa: E402
from patients.screening import QUESTIONS, Answer  # noqa: E402
from patients.services import record_screening  # noqa: E402
from scheduling import clock  # noqa: E402
from scheduling.models import (  # noqa: E402
    Appointment,
    Kind,
    Room,
    SchedulingSettings,
    WorkingHours,
)
from scheduling.services import (  # noqa: E402
    BookingError,
    book_appointment,
    book_series,
    default_location,
    propose_series,
)
from scheduling.slots import free_slots  # noqa: E402
from treatments import services as treatments  # noqa: E402
from treatments.models import Consultation, TreatmentPlan  # noqa: E402

PATIENTS = int(os.environ.get("BENCH_PATIENTS", 100_000))
APPOINTMENTS = int(os.environ.get("BENCH_APPOINTMENTS", 1_000_000))
DOCTORS = 8
ROOMS = 8
# The seeded calendar: 15 places a day per doctor, 35 minutes apart from 08:00, so the longest
# visit (a 30-minute consultation) still keeps the 5-minute buffer to the next one.
SLOTS_PER_DAY, SLOT_MINUTES = 15, 35
WORK_STARTS, WORK_ENDS = dt.time(8), dt.time(17)
FUTURE_DAYS = 730
RUN_NOTE = "bench run"  # plans and consultations this script makes while measuring
TARGETS = {
    "day view": 30,
    "free slots, 90 days": 20,
    "book 6-session series": 50,
    # Issue 17: the record and the free-time page stay within the day view's target.
    "patient record": 30,
    "free-time page": 30,
    "free-time page, a patient": 30,
}
RECORDS = 20  # patients whose record page is measured

FIRST = ["María", "Susan", "Linda", "Karen", "Chloé", "Zoë", "Mei", "Priya", "Olga", "Grace"]
LAST = ["García", "Miller", "O'Connor", "Nguyen", "Müller", "Sørensen", "Patel", "Okafor", "Kim"]


def calendar_setup():
    """The office, 8 rooms, 8 doctors working 8 to 5 on weekdays, and a front-desk user."""
    SchedulingSettings.objects.get_or_create(pk=1)
    office = default_location()
    for n in range(1, ROOMS + 1):
        Room.objects.update_or_create(location=office, name=f"Room {n}", defaults={"active": True})
    users = get_user_model().objects
    doctors = []
    for n in range(1, DOCTORS + 1):
        doctor, created = users.get_or_create(
            username=f"bench-dr{n}", defaults={"first_name": "Dana", "last_name": f"Doctor {n}"}
        )
        doctor.groups.add(group_for(Role.DOCTOR))
        if created:
            WorkingHours.objects.bulk_create(
                WorkingHours(
                    doctor=doctor,
                    location=office,
                    weekday=weekday,
                    starts=WORK_STARTS,
                    ends=WORK_ENDS,
                )
                for weekday in range(5)
            )
        doctors.append(doctor)
    desk, _ = users.get_or_create(username="bench-desk")
    desk.groups.add(group_for(Role.FRONT_DESK))
    return office, doctors, desk


def seed_patients() -> None:
    have = Patient.objects.count()
    rng = random.Random(have)
    batch = []
    for n in range(have, PATIENTS):
        first, last = rng.choice(FIRST), f"{rng.choice(LAST)}{n % 97}"
        batch.append(
            Patient(
                legal_first_name=first,
                legal_last_name=last,
                date_of_birth=date(1940, 1, 1) + timedelta(days=rng.randrange(60 * 365)),
                phone=f"+1503{n:07d}",
                email=f"p{n}@example.org",
                state="OR",
                search_name=fold(f"{first} {last}"),
            )
        )
        if len(batch) == 5000:
            Patient.objects.bulk_create(batch)
            batch = []
    Patient.objects.bulk_create(batch)


# Every patient had a consultation and a 4-session plan with one of the doctors (patient n
# with doctor n mod 8), so the seeded sessions belong to a plan as they do in the clinic.
SEED_PLANS = """
WITH p AS (
    SELECT id, (row_number() OVER (ORDER BY id) - 1) %% 8 AS d FROM patients_patient
), c AS (
    INSERT INTO treatments_consultation (patient_id, doctor_id, held_on, ceap_right, ceap_left,
        vessels_right, vessels_left, screening_reviewed, acknowledged, decision,
        varicose_override, varicose_override_reason, notes, created_at)
    SELECT p.id, (%(doctors)s::int[])[p.d + 1], DATE '2010-01-04' + (p.id %% 5000)::int,
        'C1', 'C1', '["spider"]', '["spider"]', '{}', '[]', 'eligible', false, '', '', now()
    FROM p
    WHERE NOT EXISTS (SELECT 1 FROM treatments_consultation x WHERE x.patient_id = p.id)
    RETURNING id, patient_id, doctor_id
)
INSERT INTO treatments_treatmentplan (patient_id, doctor_id, consultation_id, areas,
    sessions_planned, interval_weeks, hose_days, session_minutes, status, stop_reason,
    estrogen_warning, notes, created_at)
SELECT patient_id, doctor_id, id, '["R-thigh-anterior", "L-calf-medial"]', 4, 4, 14, 20,
    'completed', '', false, '', now()
FROM c
"""

# Candidate places: every weekday in [first, last] x doctor x place of the day; a place is
# taken with a probability that falls from 90 % in the past to 10 % two years ahead. Rooms
# rotate by day, one doctor per room per day, so neither exclusion constraint can object.
# Under a limit, the days nearest today are taken first.
SEED_APPOINTMENTS = """
WITH pat AS (SELECT array_agg(id ORDER BY id) AS ids, count(*) AS n FROM patients_patient),
cand AS (
    SELECT day::date AS day, d, s, random() AS r1, random() AS r2, random() AS r3,
        random() AS r4, random() AS r5
    FROM generate_series(%(first)s::timestamp, %(last)s::timestamp, INTERVAL '1 day') AS day,
        generate_series(0, 7) AS d, generate_series(0, %(slots)s - 1) AS s
    WHERE extract(isodow FROM day) < 6
), taken AS (
    SELECT cand.*,
        CASE WHEN r3 < 0.65 THEN 'session' WHEN r3 < 0.80 THEN 'consultation'
             WHEN r3 < 0.92 THEN 'review' ELSE 'touch_up' END AS kind,
        (day + TIME '08:00' + s * INTERVAL '%(minutes)s minutes')
            AT TIME ZONE 'America/Los_Angeles' AS starts_at,
        (pat.ids)[1 + d + 8 * floor(r2 * (pat.n / 8))::int] AS patient_id
    FROM cand, pat
    WHERE r1 < CASE
        WHEN day <= %(today)s THEN 0.9
        WHEN day <= %(today)s + 14 THEN 0.85
        WHEN day <= %(today)s + 365 THEN 0.85 - 0.65 * (day - %(today)s - 14) / 351.0
        ELSE 0.1 END
    ORDER BY abs(day - %(today)s), day
    LIMIT %(limit)s
)
INSERT INTO scheduling_appointment (patient_id, doctor_id, location_id, room_id, kind, plan_id,
    session_number, starts_at, ends_at, status, cancelled_by, cancel_reason, late_cancel, notes,
    version, created_at, created_by_id)
SELECT t.patient_id, (%(doctors)s::int[])[d + 1], %(location)s,
    (%(rooms)s::bigint[])[1 + (d + (day - DATE '2000-01-03') %% 8 + 8) %% 8], kind,
    CASE WHEN kind = 'session' THEN plan.id END,
    CASE WHEN kind = 'session' THEN 1 + s %% 4 END,
    starts_at,
    starts_at + CASE kind WHEN 'session' THEN 15 + 5 * floor(r4 * 3)::int
        WHEN 'consultation' THEN 30 WHEN 'review' THEN 15 ELSE 25 END * INTERVAL '1 minute',
    CASE WHEN r5 < 0.06 THEN 'cancelled'
         WHEN day >= %(today)s THEN 'booked'
         WHEN r5 < 0.10 THEN 'no_show' ELSE 'completed' END,
    CASE WHEN r5 < 0.06 THEN 'patient' ELSE '' END,
    CASE WHEN r5 < 0.06 THEN 'Could not come' ELSE '' END,
    false, '', 1, starts_at - INTERVAL '30 days', NULL
FROM taken t
LEFT JOIN treatments_treatmentplan plan ON plan.patient_id = t.patient_id AND plan.notes = ''
"""


def seed_appointments(office, doctors) -> None:
    """1,000,000 appointments: two years ahead, thinning out, and as many past years as it
    takes, in two INSERT ... SELECT statements. Fewer than the two years ahead hold (about
    20,000): half of them ahead, from today on, and half in the days before it."""
    today = timezone.localdate(timezone.now(), clock.zone(office.time_zone))
    rooms = list(
        Room.objects.filter(location=office, name__startswith="Room ")
        .order_by("name")
        .values_list("pk", flat=True)
    )[:ROOMS]
    params = {
        "doctors": [d.pk for d in doctors],
        "rooms": rooms,
        "location": office.pk,
        "today": today,
        "slots": SLOTS_PER_DAY,
        "minutes": SLOT_MINUTES,
    }
    per_weekday = DOCTORS * SLOTS_PER_DAY * 0.9
    with transaction.atomic(), connection.cursor() as cursor:
        # The rows are made from ids just read; the foreign keys are checked once at the end
        # (below) instead of by 5 million deferred trigger calls.
        cursor.execute("SET LOCAL session_replication_role = replica")
        # The no-double-booking constraints are built again after the insert (about a third
        # quicker than row by row); adding them back checks every seeded row all the same.
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'scheduling_appointment'::regclass AND contype = 'x'"
        )
        exclusions = cursor.fetchall()
        for name, _definition in exclusions:
            cursor.execute(f'ALTER TABLE scheduling_appointment DROP CONSTRAINT "{name}"')
        cursor.execute(
            SEED_APPOINTMENTS,
            {
                **params,
                "first": today,
                "last": today + timedelta(days=FUTURE_DAYS),
                "limit": APPOINTMENTS // 2,
            },
        )
        left = APPOINTMENTS - cursor.rowcount
        past_days = int(left / per_weekday * 7 / 5 * 1.05) + 7
        cursor.execute(
            SEED_APPOINTMENTS,
            {
                **params,
                "first": today - timedelta(days=past_days),
                "last": today - timedelta(days=1),
                "limit": left,
            },
        )
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for name, definition in exclusions:
            cursor.execute(
                f'ALTER TABLE scheduling_appointment ADD CONSTRAINT "{name}" {definition}'
            )
        cursor.execute("SET LOCAL session_replication_role = origin")
        cursor.execute(
            "SELECT count(*) FROM scheduling_appointment a "
            "LEFT JOIN patients_patient p ON p.id = a.patient_id "
            "LEFT JOIN treatments_treatmentplan t ON t.id = a.plan_id "
            "WHERE p.id IS NULL OR (a.plan_id IS NOT NULL AND t.id IS NULL)"
        )
        assert cursor.fetchone()[0] == 0, "seeded appointments point at missing rows"


def seed(office, doctors) -> str:
    """How long each step took, or a note that the database was seeded before."""
    if Appointment.objects.filter(created_by__isnull=True).count() >= APPOINTMENTS:
        return "seeded earlier (reused)"
    steps, started = [], time.perf_counter()

    def step(name: str, since: float) -> float:
        steps.append(f"{name} {time.perf_counter() - since:.0f} s")
        return time.perf_counter()

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE scheduling_appointment CASCADE")
    seed_patients()
    mark = step("patients", started)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(SEED_PLANS, {"doctors": [d.pk for d in doctors]})
    mark = step("plans", mark)
    seed_appointments(office, doctors)
    mark = step("appointments", mark)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    step("vacuum analyze", mark)
    return f"seeded in {time.perf_counter() - started:.0f} s ({', '.join(steps)})"


def delete_with_dependents(queryset) -> None:
    """Delete the rows and, first, whatever protects them (changes, reminders, ...)."""
    for relation in queryset.model._meta.related_objects:
        if relation.on_delete in (models.PROTECT, models.RESTRICT) and not relation.many_to_many:
            related = relation.related_model._base_manager
            delete_with_dependents(related.filter(**{f"{relation.field.name}__in": queryset}))
    queryset.delete()


def clear_previous_run(desk) -> None:
    """What an earlier run booked goes, so each run starts from the seeded calendar."""
    delete_with_dependents(Appointment.objects.filter(created_by=desk))
    delete_with_dependents(TreatmentPlan.objects.filter(notes=RUN_NOTE))
    delete_with_dependents(Consultation.objects.filter(notes=RUN_NOTE))


def summary(samples: list[float]) -> tuple[float, float]:
    samples = sorted(samples)
    return statistics.median(samples), samples[max(0, int(len(samples) * 0.95) - 1)]


def logged_in(user) -> Client:
    """A test client logged in as `user`, its second step taken (another bench, such as the
    HTTP load harness, may have given the user an authenticator app)."""
    client = Client()
    client.force_login(user)
    session = client.session
    session[two_factor.NEEDED] = False
    session.save()
    return client


def ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def next_weekdays(today: date, count: int, skip: int = 0) -> list[date]:
    days, day = [], today + timedelta(days=skip)
    while len(days) < count:
        day += timedelta(days=1)
        if day.weekday() < 5:
            days.append(day)
    return days


def bench_day_view(
    desk, days: list[date], requests: int, path: str = "/schedule/day/"
) -> list[float] | None:
    try:
        resolve(path)
    except Resolver404:
        return None
    client = logged_in(desk)

    def one(day: date) -> float:
        started = time.perf_counter()
        response = client.get(path, {"date": day.isoformat()})
        elapsed = ms(started)
        assert response.status_code == 200, response.status_code
        return elapsed

    for day in days:
        one(day)  # warm caches and the connection
    return [one(days[n % len(days)]) for n in range(requests)]


def bench_free_slots(office, doctors, today: date, runs: int) -> tuple[list[float], int]:
    settings = SchedulingSettings.objects.get(pk=1)

    def one(doctor) -> tuple[float, int]:
        started = time.perf_counter()
        slots = free_slots(
            doctor_ids=[doctor.pk],
            location=office,
            first_day=today + timedelta(days=1),
            last_day=today + timedelta(days=90),
            minutes=20,
            step_minutes=settings.slot_step_minutes,
            buffer_minutes=settings.buffer_minutes,
        )
        return ms(started), len(slots)

    for doctor in doctors:
        one(doctor)
    results = [one(doctors[n % len(doctors)]) for n in range(runs)]
    return [r[0] for r in results], results[0][1]


def long_histories(doctors, desk, count: int) -> list[Patient]:
    """The patients with the most appointments, each given an active 6-session plan with its
    series booked (a record page with every panel full)."""
    by = Actor(user=desk, role=Role.FRONT_DESK, ip="127.0.0.1")
    busiest = (
        Appointment.objects.filter(created_by__isnull=True)
        .values("patient")
        .annotate(n=models.Count("id"))
        .order_by("-n", "patient")[:count]
    )
    patients = list(Patient.objects.filter(pk__in=[row["patient"] for row in busiest]))
    for n, patient in enumerate(patients):
        plan = fresh_plan(patient, doctors[n % len(doctors)])
        starts = {p.number: p.starts_at for p in propose_series(plan=plan) if p.starts_at}
        book_series(plan=plan, starts=starts, by=by)
    return patients


def bench_page(desk, paths: list[tuple[str, dict]], requests: int) -> list[float]:
    """Server time of GET path with its query, taking the paths in turn."""
    client = logged_in(desk)

    def one(path: str, query: dict) -> float:
        started = time.perf_counter()
        response = client.get(path, query)
        elapsed = ms(started)
        assert response.status_code == 200, (path, response.status_code)
        return elapsed

    for path, query in paths:
        one(path, query)  # warm caches and the connection
    return [one(*paths[n % len(paths)]) for n in range(requests)]


def fresh_plan(patient, doctor) -> TreatmentPlan:
    by = Actor(user=doctor, role=Role.DOCTOR, ip="127.0.0.1")
    # A consultation decides only on a full screening; every answer "no".
    record_screening(patient=patient, answers={q.key: (Answer.NO, "") for q in QUESTIONS}, by=by)
    consultation = treatments.record_consultation(
        patient=patient,
        data={
            "held_on": timezone.localdate() - timedelta(days=7),
            "ceap_right": "C1",
            "ceap_left": "C1",
            "vessels_right": ["spider"],
            "vessels_left": ["spider", "reticular"],
            "decision": "eligible",
            "varicose_override": False,
            "varicose_override_reason": "",
            "notes": RUN_NOTE,
        },
        acknowledged=[],
        by=by,
    )
    return treatments.create_plan(
        patient=patient,
        consultation=consultation,
        areas=["R-thigh-anterior", "L-calf-medial"],
        sessions=6,
        interval_weeks=4,
        hose_days=14,
        start=True,
        notes=RUN_NOTE,
        by=by,
    )


def bench_series(doctors, desk, patients, runs: int) -> tuple[list[float], list[float]]:
    by = Actor(user=desk, role=Role.FRONT_DESK, ip="127.0.0.1")
    propose_ms, book_ms = [], []
    for n in range(runs + 3):  # the first 3 warm up
        plan = fresh_plan(patients[n], doctors[n % len(doctors)])
        started = time.perf_counter()
        proposals = propose_series(plan=plan)
        proposed = ms(started)
        starts = {p.number: p.starts_at for p in proposals if p.starts_at}
        assert len(starts) == 6, proposals
        started = time.perf_counter()
        booked = book_series(plan=plan, starts=starts, by=by)
        if n >= 3:
            propose_ms.append(proposed)
            book_ms.append(ms(started))
        assert len(booked) == 6
    return propose_ms, book_ms


def slot_pool(office, doctors, today: date) -> list[tuple]:
    """Free, non-overlapping (doctor, start) pairs 4 to 10 months ahead, in random order, so
    that two threads seldom want the same doctor at the same moment."""
    pool = apart_free_times(
        office, doctors, today + timedelta(days=120), today + timedelta(days=300)
    )
    random.Random(5).shuffle(pool)
    return pool


def describe(error: BookingError) -> str:
    """The error and, for a lost race, the constraint that refused the row."""
    database_error = getattr(error.__cause__, "__cause__", None)
    constraint = getattr(getattr(database_error, "diag", None), "constraint_name", None)
    return f"{type(error).__name__}: {error}" + (f" [{constraint}]" if constraint else "")


def bench_throughput(office, doctors, desk, patients, today: date, clients: int, seconds: float):
    pool = iter(slot_pool(office, doctors, today))
    lock = threading.Lock()
    by = Actor(user=desk, role=Role.FRONT_DESK, ip="127.0.0.1")
    errors, latencies, done = Counter(), [], []
    start_gate = threading.Barrier(clients + 1)
    deadline = [0.0]

    def client(number: int) -> None:
        rng = random.Random(number)
        connections["default"].ensure_connection()
        start_gate.wait()
        count = 0
        try:
            while time.perf_counter() < deadline[0]:
                with lock:
                    doctor, starts_at = next(pool, (None, None))
                if doctor is None:
                    break
                started = time.perf_counter()
                try:
                    book_appointment(
                        patient=rng.choice(patients),
                        doctor=doctor,
                        kind=Kind.CONSULTATION,
                        starts_at=starts_at,
                        by=by,
                    )
                    count += 1
                except BookingError as error:
                    with lock:
                        errors[describe(error)] += 1
                except Exception as error:  # noqa: BLE001 - counted and shown, not hidden
                    with lock:
                        errors[f"{type(error).__name__}: {str(error).splitlines()[0]}"] += 1
                with lock:
                    latencies.append(ms(started))
        finally:
            connections["default"].close()
            with lock:
                done.append(count)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    deadline[0] = time.perf_counter() + seconds
    started = time.perf_counter()
    start_gate.wait()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return sum(done) / elapsed, sum(done), errors, latencies


def print_row(name: str, samples: list[float] | None, target: int | None, note: str = "") -> None:
    if samples is None:
        print(f"{name:<26}{'-':>8}{'-':>8}{'':>9}  {note}")
        return
    median, p95 = summary(samples)
    verdict = "" if target is None else (" ok" if median < target else " OVER")
    target_text = f"< {target}" if target else ""
    print(f"{name:<26}{median:>8.1f}{p95:>8.1f}{target_text:>9}{verdict:<5} {note}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=100, help="day views and slot searches")
    parser.add_argument("--series", type=int, default=30, help="6-session series to book")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--pages-only", action="store_true", help="skip booking and load")
    parser.add_argument("--seed-only", action="store_true", help="seed, measure nothing")
    args = parser.parse_args()
    ensure_database()
    call_command("migrate", verbosity=0)
    office, doctors, desk = calendar_setup()
    clear_previous_run(desk)
    seeded = seed(office, doctors)
    if args.seed_only:
        print(
            f"{connection.settings_dict['NAME']}: {Patient.objects.count():,} patients, "
            f"{Appointment.objects.count():,} appointments; {seeded}"
        )
        return
    tz = clock.zone(office.time_zone)
    today = timezone.localdate(timezone.now(), tz)
    patients = list(Patient.objects.order_by("?")[: max(2000, args.series + 3)])
    counts = f"{Patient.objects.count():,} patients, {Appointment.objects.count():,} appointments"

    load_before = os.getloadavg()[0]
    busy_days = next_weekdays(today, 5, skip=6)
    day_ms = bench_day_view(desk, busy_days, args.requests)
    week_ms = bench_day_view(desk, busy_days, args.requests // 4, path="/schedule/week/")
    monday = busy_days[0] - timedelta(days=busy_days[0].weekday())
    week = clock.day_bounds(monday, tz)[0], clock.day_bounds(monday + timedelta(6), tz)[1]
    in_week = Appointment.objects.not_cancelled().overlapping(*week).count()
    histories = long_histories(doctors, desk, RECORDS)
    in_record = Appointment.objects.filter(patient=histories[0]).count()
    record_ms = bench_page(desk, [(f"/patients/{p.pk}/", {}) for p in histories], args.requests)
    free_time_ms = bench_page(
        desk,
        [("/schedule/slots/", {"kind": kind}) for kind in ("consultation", "review")],
        args.requests,
    )
    # The desk's usual search: for a patient, every free time a "Book" link with its words.
    patient_free_time_ms = bench_page(
        desk,
        [("/schedule/slots/", {"kind": "consultation", "patient": p.pk}) for p in histories],
        args.requests,
    )
    slot_ms, slot_count = bench_free_slots(office, doctors, today, args.requests)
    if args.pages_only:
        propose_ms = series_ms = latencies = None
        rate, bookings, errors = 0.0, 0, Counter()
    else:
        propose_ms, series_ms = bench_series(doctors, desk, patients, args.series)
        rate, bookings, errors, latencies = bench_throughput(
            office, doctors, desk, patients, today, args.clients, args.seconds
        )

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0].split()[0]
    on_day = Appointment.objects.on_day(busy_days[0], tz).count()
    print(
        f"Scheduling benchmark, {timezone.now():%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores "
        f"({platform.machine()}), PostgreSQL {pg}, Python {platform.python_version()}; "
        f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after "
        "(other work on the machine slows every number)"
    )
    print(f"Data: {counts}, {DOCTORS} doctors, {ROOMS} rooms; {seeded}")
    print("Server time in ms, in process (median, p95)")
    print(f"{'measure':<26}{'median':>8}{'p95':>8}{'target':>9}")
    print_row(
        "day view, 8 doctors",
        day_ms,
        TARGETS["day view"],
        f"{args.requests} requests, {on_day} appointments on {busy_days[0]} and similar days"
        if day_ms is not None
        else "/schedule/day/ does not exist yet",
    )
    print_row(
        "week view, 8 doctors",
        week_ms,
        None,
        f"{args.requests // 4} requests, {in_week} appointments in the week of {busy_days[0]}",
    )
    print_row(
        "patient record",
        record_ms,
        TARGETS["patient record"],
        f"{args.requests} requests, {RECORDS} patients with the most visits "
        f"({in_record} the first) and an active plan booked",
    )
    print_row(
        "free-time page",
        free_time_ms,
        TARGETS["free-time page"],
        f"{args.requests} requests, 2 weeks, all doctors, consultations and reviews",
    )
    print_row(
        "free-time page, a patient",
        patient_free_time_ms,
        TARGETS["free-time page, a patient"],
        f"{args.requests} requests, 2 weeks, all doctors, a Book link on each time",
    )
    print_row(
        "free slots, 90 days",
        slot_ms,
        TARGETS["free slots, 90 days"],
        f"{args.requests} searches, one doctor, 20 min, {slot_count} free times found",
    )
    print_row(
        "book 6-session series",
        series_ms,
        TARGETS["book 6-session series"],
        f"{args.series} fresh plans, book_series",
    )
    print_row("propose 6-session series", propose_ms, None, "propose_series, before booking")
    print_row(
        f"1 booking, {args.clients} clients",
        latencies,
        None,
        "book_appointment under load",
    )
    if args.pages_only:
        return
    print(
        f"Throughput, {args.clients} concurrent clients for {args.seconds:.0f} s: "
        f"{rate:.1f} bookings/s ({bookings} booked, {sum(errors.values())} refused)"
    )
    for kind, count in errors.most_common():
        print(f"  {count:>5} x {kind}")


if __name__ == "__main__":
    main()
