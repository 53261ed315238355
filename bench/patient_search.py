#!/usr/bin/env python
"""Patient search over 100,000 patients: server time of the search page, median and p95.

Runs the whole request in process (middleware, session, query, template) through Django's test
client against a real PostgreSQL database of its own (goodskin_bench, created and seeded once).
Usage: .venv/bin/python bench/patient_search.py [--patients 100000] [--requests 200]
"""

import argparse
import os
import random
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "goodskin.settings_test")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/goodskin_bench")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")

import django  # noqa: E402
from benchdb import ensure_database  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from goodskin.roles import Role, group_for  # noqa: E402
from patients.models import Patient, fold  # noqa: E402

FIRST = [
    "María",
    "Susan",
    "Jennifer",
    "Linda",
    "Karen",
    "Patricia",
    "Barbara",
    "Elizabeth",
    "Nancy",
    "Lisa",
    "Chloé",
    "Zoë",
    "Renée",
    "Ana",
    "Mei",
    "Priya",
    "Fatima",
    "Olga",
    "Ingrid",
    "Siobhan",
    "Dolores",
    "Lucía",
    "Hannah",
    "Emily",
    "Grace",
    "Noa",
]
LAST = [
    "García",
    "Miller",
    "O'Connor",
    "Johnson",
    "Thompson",
    "Nguyen",
    "Wilson",
    "Brown",
    "Anderson",
    "Martínez",
    "Smith",
    "Jones",
    "Davis",
    "López",
    "Müller",
    "Kowalski",
    "Novák",
    "Sørensen",
    "Yamamoto",
    "Patel",
    "Okafor",
    "Haddad",
    "Ivanova",
    "Rossi",
    "Dubois",
    "Fernández",
    "Schmidt",
    "Kim",
    "Chen",
    "Singh",
    "Walker",
    "Young",
]


def seed(count: int) -> None:
    have = Patient.objects.count()
    rng = random.Random(have)
    batch = []
    for n in range(have, count):
        first, last = rng.choice(FIRST), f"{rng.choice(LAST)}{'' if n % 3 else n % 97}"
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
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE patients_patient")


def typo(name: str, rng: random.Random) -> str:
    at = rng.randrange(1, len(name) - 1)
    return name[:at] + name[at] + name[at:]


def timed(client: Client, query: str) -> float:
    start = time.perf_counter()
    response = client.get("/patients/", {"q": query})
    elapsed = time.perf_counter() - start
    assert response.status_code == 200, response.status_code
    return elapsed * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    ensure_database()
    call_command("migrate", verbosity=0)
    seed(args.patients)
    from django.contrib.auth import get_user_model

    user, _ = get_user_model().objects.get_or_create(username="bench-desk")
    user.groups.add(group_for(Role.FRONT_DESK))
    client = Client()
    client.force_login(user)
    rng = random.Random(1)
    total = Patient.objects.count()
    kinds = {
        "name fragment": lambda: fold(rng.choice(LAST))[:4],
        "first + last": lambda: f"{rng.choice(FIRST)} {rng.choice(LAST)}",
        "phone": lambda: (
            f"(503) {rng.randrange(total):07d}"[:9] + "-" + f"{rng.randrange(10**4):04d}"
        ),
        # A letter doubled in the middle of a last name: no name contains it, so the search
        # falls back to the close names (issue 17).
        "name with typo": lambda: typo(rng.choice(LAST), rng),
        "date of birth": lambda: (
            date(1940, 1, 1) + timedelta(days=rng.randrange(60 * 365))
        ).strftime("%m/%d/%Y"),
    }
    print(
        f"Patient search, {total:,} patients, {args.requests} requests per kind, "
        f"server time in ms (test client, in process); load average {os.getloadavg()[0]:.1f}"
    )
    print(f"{'search by':<16}{'median':>8}{'p95':>8}{'max':>8}")
    for kind, make_query in kinds.items():
        for _ in range(10):
            timed(client, make_query())  # warm caches and connections
        samples = sorted(timed(client, make_query()) for _ in range(args.requests))
        p95 = samples[int(len(samples) * 0.95) - 1]
        print(f"{kind:<16}{statistics.median(samples):>8.1f}{p95:>8.1f}{samples[-1]:>8.1f}")
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
