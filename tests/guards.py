"""Forcing a race between two transactions, for the tests that prove a guard is needed.

The race is forced, not hoped for: `contend` runs a holder inside an open transaction in one
thread, then a contender in another, and lets the holder commit only once the contender waits
on a row lock in PostgreSQL (pg_stat_activity) or has finished without waiting."""

import threading
import time

import pytest
from django.db import connection, transaction

DEADLINE = 30  # seconds; only reached when something is broken
committing = pytest.mark.django_db(transaction=True)


def _waits_on_lock(pid: int) -> bool:
    with connection.cursor() as cursor:
        # A row lock (or a constraint check) waits for the other transaction to end.
        cursor.execute(
            "SELECT wait_event_type, wait_event FROM pg_stat_activity WHERE pid = %s", [pid]
        )
        row = cursor.fetchone()
    return row is not None and row[0] == "Lock" and row[1] in ("transactionid", "tuple")


def contend(holder, contender):
    """Run `holder` in a transaction of its own thread and keep that transaction open; then
    run `contender` in a second thread (its own connection, autocommit). The holder commits
    once the contender waits on a lock, or once the contender has finished without waiting.
    Returns (holder's result, contender's result, whether the contender waited)."""
    held, release, started, done = (threading.Event() for _ in range(4))
    out, pid = {}, []

    def hold():
        try:
            with transaction.atomic():
                out["holder"] = holder()
                held.set()
                if not release.wait(DEADLINE):
                    raise TimeoutError("never released")
        except Exception as error:  # noqa: BLE001 - the test inspects every outcome
            out["holder"] = error
        finally:
            held.set()
            connection.close()

    def contend_():
        try:
            if not held.wait(DEADLINE):
                raise TimeoutError("holder never held")
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                pid.append(cursor.fetchone()[0])
            started.set()
            out["contender"] = contender()
        except Exception as error:  # noqa: BLE001 - the test inspects every outcome
            out["contender"] = error
        finally:
            started.set()
            done.set()
            connection.close()

    threads = [threading.Thread(target=hold), threading.Thread(target=contend_)]
    for thread in threads:
        thread.start()
    waited = False
    try:
        assert started.wait(DEADLINE)
        deadline = time.monotonic() + DEADLINE
        while not done.wait(0.005):
            if pid and _waits_on_lock(pid[0]):
                waited = True
                break
            assert time.monotonic() < deadline, "the contender neither waited nor finished"
    finally:
        release.set()
        for thread in threads:
            thread.join(DEADLINE)
    assert not any(thread.is_alive() for thread in threads)
    return out.get("holder"), out.get("contender"), waited
