"""Force a race between two connections, for the committing tests that prove each transaction
and row lock (tests/<app>/test_guards.py).

The race is forced, not hoped for: a holder runs in one thread and stops with its transaction
open; a contender runs in another thread (its own connection, autocommit). The holder commits
only once the contender waits on a row lock in PostgreSQL (pg_stat_activity) or has finished
without waiting. Deadlines, not sleeps: they are reached only when something is broken."""

import threading
import time
from contextlib import contextmanager

from django.db import connection, transaction

DEADLINE = 30  # seconds


def waits_on_lock(pid: int) -> bool:
    with connection.cursor() as cursor:
        # A row lock (or a unique index check) waits for the other transaction to end; so does
        # the audit chain's advisory lock (patients migration 0005).
        cursor.execute(
            "SELECT wait_event_type, wait_event FROM pg_stat_activity WHERE pid = %s", [pid]
        )
        row = cursor.fetchone()
    return row is not None and row[0] == "Lock" and row[1] in ("transactionid", "tuple", "advisory")


@contextmanager
def _pausing(pause, held: threading.Event, release: threading.Event):
    """Make the holder thread stop inside `pause` = (module, name), once, after the real call:
    how a service that opens a durable transaction is held open at its last step."""
    if pause is None:
        yield lambda: None
        return
    owner, name = pause
    real, holder_thread = getattr(owner, name), []

    def paused(*args, **kwargs):
        result = real(*args, **kwargs)
        if holder_thread == [threading.get_ident()] and not held.is_set():
            held.set()
            if not release.wait(DEADLINE):
                raise TimeoutError("never released")
        return result

    setattr(owner, name, paused)
    try:
        yield lambda: holder_thread.append(threading.get_ident())
    finally:
        setattr(owner, name, real)


def contend(holder, contender, *, pause=None):
    """Run `holder` in a thread and keep its transaction open; then run `contender` in a second
    thread. Without `pause` the holder runs inside a transaction of the helper's, held open once
    it returns; with `pause=(module, name)` it opens its own and is held at its first call of
    module.name. Returns (holder's result, contender's result, whether the contender waited)."""
    held, release, started, done = (threading.Event() for _ in range(4))
    out, pid = {}, []

    def hold(mark_holder):
        mark_holder()
        try:
            if pause is None:
                with transaction.atomic():
                    out["holder"] = holder()
                    held.set()
                    if not release.wait(DEADLINE):
                        raise TimeoutError("never released")
            else:
                out["holder"] = holder()
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

    waited = False
    with _pausing(pause, held, release) as mark_holder:
        threads = [
            threading.Thread(target=hold, args=(mark_holder,)),
            threading.Thread(target=contend_),
        ]
        for thread in threads:
            thread.start()
        try:
            assert started.wait(DEADLINE)
            deadline = time.monotonic() + DEADLINE
            while not done.wait(0.005):
                if pid and waits_on_lock(pid[0]):
                    waited = True
                    break
                assert time.monotonic() < deadline, "the contender neither waited nor finished"
        finally:
            release.set()
            for thread in threads:
                thread.join(DEADLINE)
    assert not any(thread.is_alive() for thread in threads)
    return out.get("holder"), out.get("contender"), waited
