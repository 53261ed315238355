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
