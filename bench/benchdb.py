"""What every benchmark needs before Django starts: its own PostgreSQL database."""

import os


def ensure_database() -> None:
    """Create the database DATABASE_URL names if it does not exist yet (kept between runs)."""
    import psycopg2

    server, name = os.environ["DATABASE_URL"].rsplit("/", 1)
    conn = psycopg2.connect(server + "/postgres")
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if not cursor.fetchone():
            cursor.execute(f'CREATE DATABASE "{name}"')
    conn.close()


def session(user, backend: str, *, verified_device=None) -> str:
    """The key of a logged-in session as login() makes it (and, for staff, after the second
    step): for a load generator's cookie, with no login page to go through. After
    django.setup()."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django_otp import DEVICE_ID_SESSION_KEY

    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = backend
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    if verified_device is not None:
        store[DEVICE_ID_SESSION_KEY] = verified_device.persistent_id
    store.create()
    return store.session_key


def apart_free_times(office, doctors, first_day, last_day) -> list[tuple]:
    """(doctor, start) of free consultation times at `office` from `first_day` to `last_day`,
    none overlapping another of the same doctor's (each with its buffer), so that every one
    of them can be booked: for the benchmarks that book many times at once. After
    django.setup()."""
    from datetime import timedelta

    from scheduling.models import SchedulingSettings
    from scheduling.slots import free_slots

    settings = SchedulingSettings.objects.get(pk=1)
    buffer = timedelta(minutes=settings.buffer_minutes)
    found = []
    for doctor in doctors:
        free_until = None
        for slot in free_slots(
            doctor_ids=[doctor.pk],
            location=office,
            first_day=first_day,
            last_day=last_day,
            minutes=settings.consultation_minutes,
            step_minutes=settings.slot_step_minutes,
            buffer_minutes=settings.buffer_minutes,
            limit=100_000,
        ):
            if free_until is None or slot.starts_at >= free_until:
                found.append((doctor, slot.starts_at))
                free_until = slot.ends_at + buffer
    return found
