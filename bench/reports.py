#!/usr/bin/env python
"""The reports at clinic scale (issue 18, point 2): every report's page, for 12 weeks, two years
and three years, for the whole clinic and for one doctor, in process, on the database that
bench/scheduling.py seeds (goodskin_bench_sched: 100,000 patients, 1,000,000 appointments).

It never seeds or changes that database for good: run bench/scheduling.py first. This
branch's migrations not yet applied there, and what the reports count beyond appointments (a
reminder for every appointment, adverse events after 2 % of the sessions, freed times with
waitlist offers, plans ending and consultations spread over the years the seeded appointments
cover, as the patients' visits are), are written inside
one transaction, measured, and rolled back.
Usage: .venv/bin/python bench/reports.py [--requests 20] [--explain]
  --explain: EXPLAIN (ANALYZE, BUFFERS) of every query of every report, two years, one doctor
"""

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "goodskin.settings_test")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/goodskin_bench_sched")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")

import django  # noqa: E402

django.setup()

from datetime import timedelta  # noqa: E402

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from reports.catalogue import REPORTS  # noqa: E402
from scheduling.models import Appointment  # noqa: E402

APPOINTMENTS = 1_000_000
TARGET_MS = 200  # a report's page, two years, on a quiet machine

EXTRA_ROWS = [
    (
        "plans and consultations spread over the years the appointments cover",
        """
        CREATE TEMPORARY TABLE bench_span ON COMMIT DROP AS
            SELECT (current_date - min(starts_at)::date) AS days FROM scheduling_appointment;
        UPDATE treatments_treatmentplan SET
            status = CASE WHEN id % 10 = 0 THEN 'stopped' ELSE 'completed' END,
            stop_reason = CASE WHEN id % 10 = 0 THEN 'bench' ELSE '' END,
            completed_at = CASE WHEN id % 10 = 0 THEN NULL
                ELSE now() - (id % (SELECT days FROM bench_span)) * INTERVAL '1 day' END,
            stopped_at = CASE WHEN id % 10 = 0
                THEN now() - (id % (SELECT days FROM bench_span)) * INTERVAL '1 day' END
        WHERE notes = '';
        UPDATE treatments_consultation
        SET held_on = current_date - (id % (SELECT days FROM bench_span))::int
        WHERE notes = '';
        """,
    ),
    (
        "a reminder for every appointment",
        """
        INSERT INTO messaging_message (key, patient_id, address, language, kind, channel,
            topic, topic_id, due_at, give_up_at, status, attempts, last_error, recipient,
            subject, body, message_id, provider_id, delivery_status, created_at, sent_at)
        SELECT 'bench-report:' || a.id, a.patient_id, '', '', 'reminder', 'email',
            'appointment', a.id, a.starts_at - INTERVAL '1 day', a.starts_at,
            CASE WHEN a.starts_at > now() THEN 'pending'
                 WHEN a.id % 50 = 0 THEN 'failed'
                 WHEN a.status = 'cancelled' THEN 'cancelled' ELSE 'sent' END,
            1, '', '', '', '', '', '', '', a.starts_at - INTERVAL '2 days',
            CASE WHEN a.starts_at <= now() THEN a.starts_at - INTERVAL '1 day' END
        FROM scheduling_appointment a
        """,
    ),
    (
        "adverse events after 2 % of the sessions",
        """
        INSERT INTO treatments_adverseevent (plan_id, type, onset_on, severity, region,
            management, follow_up_needed, outcome, reported_by_id, created_at)
        SELECT a.plan_id,
            (ARRAY['bruising', 'pain_itching', 'hyperpigmentation', 'matting',
                   'trapped_blood', 'thrombophlebitis'])[1 + a.id % 6],
            (a.starts_at AT TIME ZONE 'America/Los_Angeles')::date + 2, 'mild', '', '', false,
            '', a.doctor_id, a.starts_at
        FROM scheduling_appointment a
        WHERE a.kind = 'session' AND a.status = 'completed' AND a.plan_id IS NOT NULL
            AND a.id % 50 = 0
        """,
    ),
    (
        "a freed time for every cancellation, a third offered to a waiting patient",
        """
        INSERT INTO scheduling_opening (doctor_id, location_id, starts_at, ends_at, reason,
            appointment_id, status, created_at, offer_from, seen_entry_id)
        SELECT doctor_id, location_id, starts_at, ends_at, 'cancelled', id,
            CASE WHEN id % 3 = 0 THEN 'filled' ELSE 'closed' END,
            starts_at - INTERVAL '3 days', starts_at - INTERVAL '3 days', 0
        FROM scheduling_appointment WHERE status = 'cancelled';
        INSERT INTO scheduling_waitlistentry (patient_id, kind, weekdays, day_part,
            not_before, note, status, created_at)
        SELECT id, 'session', 127, 'any', current_date - 2000, '', 'removed', now()
        FROM patients_patient ORDER BY id LIMIT 1;
        INSERT INTO scheduling_waitlistoffer (opening_id, entry_id, starts_at, ends_at, status,
            nonce, token_hash, sent_at, expires_at)
        SELECT o.id, (SELECT max(id) FROM scheduling_waitlistentry), o.starts_at, o.ends_at,
            CASE WHEN o.id % 2 = 0 THEN 'accepted' ELSE 'declined' END,
            gen_random_uuid(), md5(o.id::text || random()::text) || md5(random()::text),
            o.created_at, o.created_at + INTERVAL '2 hours'
        FROM scheduling_opening o WHERE o.reason = 'cancelled' AND o.appointment_id % 3 = 0;
        """,
    ),
]


def add_rows() -> list[str]:
    notes = []
    with connection.cursor() as cursor:
        for name, sql in EXTRA_ROWS:
            started = time.perf_counter()
            for statement in filter(str.strip, sql.split(";")):
                cursor.execute(statement)
            notes.append(f"{name} ({time.perf_counter() - started:.0f} s)")
        cursor.execute("ANALYZE")
    return notes


def summary(samples: list[float]) -> tuple[float, float]:
    samples = sorted(samples)
    return statistics.median(samples), samples[max(0, int(len(samples) * 0.95) - 1)]


def periods(today):
    return {
        "12 weeks": (today - timedelta(weeks=12) + timedelta(days=1), today),
        "2 years": (today - timedelta(days=730), today),
        "3 years": (today - timedelta(days=3 * 366 - 1), today),
    }


def measure(client, slug, query, requests) -> tuple[list[float], list[float], int]:
    """Server time of each request, the time its queries took (PostgreSQL and the driver),
    and how many queries the last one ran."""
    path = reverse("reports:report", args=[slug])
    client.get(path, query)  # warm
    samples, in_queries = [], []
    for _ in range(requests):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(path, query)
            samples.append((time.perf_counter() - started) * 1000)
        in_queries.append(sum(float(q["time"]) for q in queries.captured_queries) * 1000)
        assert response.status_code == 200 and b"gs-chart" in response.content, slug
    return samples, in_queries, len(queries)


def explain(client, query) -> None:
    for slug in REPORTS:
        with CaptureQueriesContext(connection) as queries:
            client.get(reverse("reports:report", args=[slug]), query)
        for sql in [q["sql"] for q in queries.captured_queries if "GROUP BY" in q["sql"]
                    or "COUNT(" in q["sql"]]:  # fmt: skip
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                plan = "\n".join(row[0] for row in cursor.fetchall())
            print(f"--- {slug}\n{sql}\n{plan}\n")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--explain", action="store_true")
    args = parser.parse_args()
    if Appointment.objects.count() < APPOINTMENTS:
        sys.exit("Seed the database first: .venv/bin/python bench/scheduling.py --pages-only")
    users = get_user_model().objects
    doctor = users.get(username="bench-dr1")
    client = Client()
    client.force_login(doctor)
    today = timezone.localdate()
    load_before = os.getloadavg()[0]
    with transaction.atomic():
        # This branch's migrations (the reports' index) too are rolled back with the rows.
        call_command("migrate", verbosity=0)
        added = add_rows()
        rows = []
        for label, (first, last) in periods(today).items():
            for who, extra in (("clinic", {}), ("one doctor", {"doctor": doctor.pk})):
                query = {"first_day": first.isoformat(), "last_day": last.isoformat(), **extra}
                if args.explain and label == "2 years" and extra:
                    explain(client, query)
                for slug in REPORTS:
                    samples, in_queries, count = measure(client, slug, query, args.requests)
                    rows.append(
                        (slug, label, who, count, *summary(samples), statistics.median(in_queries))
                    )
        transaction.set_rollback(True)
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0].split()[0]
    print(
        f"Reports benchmark, {timezone.now():%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores "
        f"({platform.machine()}), PostgreSQL {pg}, Python {platform.python_version()}; load "
        f"average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after"
    )
    print(f"Data: {Appointment.objects.count():,} appointments; for the run, rolled back: ")
    for note in added:
        print(f"  {note}")
    print(f"Server time in ms, in process, {args.requests} requests each (median, p95)")
    print("(queries: how many, and the median of the time spent in them)")
    print(
        f"{'report':<16}{'period':<10}{'for':<12}{'queries':>8}{'in them':>9}"
        f"{'median':>9}{'p95':>9}"
    )
    for slug, label, who, count, median, p95, db in rows:
        verdict = "" if label != "2 years" else (" ok" if median < TARGET_MS else " OVER")
        print(
            f"{slug:<16}{label:<10}{who:<12}{count:>8}{db:>9.1f}{median:>9.1f}{p95:>9.1f}{verdict}"
        )


if __name__ == "__main__":
    main()
