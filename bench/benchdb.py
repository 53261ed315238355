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
