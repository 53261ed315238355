"""The audit log is tamper-evident (patients migration 0005, patients/chain.py): the app's
database user can't change or remove an entry, and an entry changed, removed or inserted by
someone who can (a superuser turning the triggers off) is found by `manage.py verify_audit`."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction

from goodskin.actors import Actor
from goodskin.roles import Role
from patients import audit, chain
from patients.models import AuditAction, AuditEntry
from tests.concurrency import contend
from tests.factories import PatientFactory

committing = pytest.mark.django_db(transaction=True)


@pytest.fixture
def desk(front_desk) -> Actor:
    return Actor(user=front_desk, role=Role.FRONT_DESK, ip="10.0.0.7")


def write(desk: Actor, count: int = 1, patient=None) -> list[AuditEntry]:
    return [
        audit.record(actor=desk, patient=patient, action=AuditAction.VIEW, subject=f"test {n}")
        for n in range(count)
    ]


def chained() -> list[AuditEntry]:
    return list(AuditEntry.objects.order_by("seq"))


def verify_output(*args: str) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("verify_audit", *args, stdout=out)
    except CommandError as error:
        return error.returncode, out.getvalue()
    return 0, out.getvalue()


def as_superuser(sql: str, params=()) -> None:
    """What someone with the database's superuser could do: skip the triggers."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params)


def test_it_numbers_each_entry_and_hashes_it_with_the_one_before(desk):
    write(desk, 3, patient=PatientFactory())
    first, second, third = chained()[-3:]
    assert (second.seq, third.seq) == (first.seq + 1, first.seq + 2)
    assert (second.prev_hash, third.prev_hash) == (first.hash, second.hash)
    assert len({first.hash, second.hash, third.hash}) == 3
    assert chain.verify().whole


def test_it_chains_a_bulk_write_in_order(desk):
    patients = PatientFactory.create_batch(3)
    audit.record_many(
        actor=desk,
        action=AuditAction.SEARCH,
        entries=[(patient, "search", {"query": "x"}) for patient in patients],
    )
    entries = chained()
    assert [e.patient_id for e in entries[-3:]] == [p.pk for p in patients]
    assert all(b.prev_hash == a.hash for a, b in zip(entries, entries[1:], strict=False))
    assert chain.verify().whole


def test_it_starts_the_chain_from_zeros(desk):
    write(desk)
    assert chained()[0].prev_hash == "0" * 64
    assert chained()[0].seq == 1


def test_verify_audit_says_the_chain_is_whole(desk):
    write(desk, 2)
    code, out = verify_output()
    assert code == 0
    assert "2 entries checked" in out
    assert f"Newest: 2:{chained()[-1].hash}" in out


def test_verify_audit_accepts_an_entry_noted_earlier_that_is_still_there(desk):
    noted = write(desk, 2)[0]
    noted.refresh_from_db()
    write(desk)
    code, out = verify_output("--expect", f"{noted.seq}:{noted.hash}")
    assert code == 0
    assert out.startswith("3 entries checked.")


@committing
def test_verify_audit_finds_an_emptied_log_against_an_entry_noted_earlier(front_desk):
    actor = Actor(user=front_desk, role=Role.FRONT_DESK, ip=None)
    write(actor, 3)
    noted = chained()[-1]
    with connection.cursor() as cursor:  # a superuser's TRUNCATE, or the maintenance setting
        cursor.execute("TRUNCATE patients_auditentry")
    write(actor, 4)
    assert verify_output()[0] == 0  # the new chain alone looks whole
    code, out = verify_output("--expect", f"{noted.seq}:{noted.hash}")
    assert code == 1
    assert "Entry number 3 with the hash noted earlier is not in the log" in out


@pytest.mark.parametrize("value", ["3", "x:y", f"3:{'g' * 64}", "9" * 30 + ":" + "0" * 64])
def test_verify_audit_refuses_a_malformed_noted_entry(db, value):
    with pytest.raises(CommandError, match="NUMBER:HASH"):
        call_command("verify_audit", "--expect", value)


@committing
def test_the_apps_database_user_cannot_change_an_entry(front_desk):
    write(Actor(user=front_desk, role=Role.FRONT_DESK, ip=None))
    with pytest.raises(IntegrityError, match="never changed or removed"):
        AuditEntry.objects.update(subject="nothing happened")
    assert AuditEntry.objects.get().subject == "test 0"


@committing
def test_the_apps_database_user_cannot_delete_an_entry(front_desk):
    write(Actor(user=front_desk, role=Role.FRONT_DESK, ip=None))
    with pytest.raises(IntegrityError, match="never changed or removed"):
        AuditEntry.objects.all().delete()
    assert AuditEntry.objects.count() == 1


@committing
def test_the_apps_database_user_cannot_empty_the_log(front_desk):
    write(Actor(user=front_desk, role=Role.FRONT_DESK, ip=None))
    # Only the test runner's flush sets this (tests/conftest.py); the app never does.
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL goodskin.audit_maintenance = off")
        cursor.execute("TRUNCATE patients_auditentry")
    assert AuditEntry.objects.count() == 1


@committing
def test_verify_audit_finds_a_changed_entry(front_desk):
    entries = write(Actor(user=front_desk, role=Role.FRONT_DESK, ip=None), 3)
    as_superuser(
        "UPDATE patients_auditentry SET subject = 'nothing to see' WHERE id = %s", [entries[1].pk]
    )
    code, out = verify_output()
    assert code == 1
    assert f"Entry id {entries[1].pk} (number 2) does not match its hash" in out


@committing
def test_verify_audit_finds_a_changed_entry_whose_hash_was_made_to_fit(front_desk):
    entries = write(Actor(user=front_desk, role=Role.FRONT_DESK, ip=None), 3)
    as_superuser("UPDATE patients_auditentry SET subject = 'x' WHERE id = %s", [entries[1].pk])
    as_superuser(
        "UPDATE patients_auditentry e SET hash = patients_audit_hash(e) WHERE id = %s",
        [entries[1].pk],
    )
    code, out = verify_output()
    assert code == 1
    assert f"Entry id {entries[2].pk} (number 3) does not follow the entry before it" in out


@committing
def test_verify_audit_finds_a_removed_entry(front_desk):
    entries = write(Actor(user=front_desk, role=Role.FRONT_DESK, ip=None), 4)
    as_superuser("DELETE FROM patients_auditentry WHERE id = %s", [entries[1].pk])
    code, out = verify_output()
    assert code == 1
    assert f"Entries 2 to 2 are missing (removed) before entry id {entries[2].pk}" in out


@committing
def test_verify_audit_finds_an_inserted_entry(front_desk):
    write(Actor(user=front_desk, role=Role.FRONT_DESK, ip=None), 2)
    last = chained()[-1]
    # A forged entry placed after the last, naming its hash and carrying a made-up one.
    as_superuser(
        "INSERT INTO patients_auditentry (at, role, action, subject, details, seq, prev_hash,"
        " hash) VALUES (now(), 'doctor', 'view', 'forged', '{}', %s, %s, %s)",
        [last.seq + 1, last.hash, "f" * 64],
    )
    forged = AuditEntry.objects.get(subject="forged")
    code, out = verify_output()
    assert code == 1
    assert f"Entry id {forged.pk} (number 3) does not match its hash" in out


@committing
def test_verify_audit_finds_an_entry_inserted_outside_the_chain(front_desk):
    write(Actor(user=front_desk, role=Role.FRONT_DESK, ip=None), 2)
    as_superuser(
        "INSERT INTO patients_auditentry (at, role, action, subject, details, prev_hash, hash)"
        " VALUES (now(), 'doctor', 'view', 'forged', '{}', '', '')"
    )
    forged = AuditEntry.objects.get(subject="forged")
    code, out = verify_output()
    assert code == 1
    assert f"Entry id {forged.pk} is outside the chain" in out


@committing
def test_two_writers_at_once_keep_one_chain(front_desk):
    """The holder's entry is written but not committed when the contender writes its own: the
    contender waits for the chain's lock, then chains after the holder's entry."""
    actor = Actor(user=front_desk, role=Role.FRONT_DESK, ip=None)
    holder, contender, waited = contend(lambda: write(actor)[0].pk, lambda: write(actor)[0].pk)
    assert waited
    first, second = chained()
    assert (first.pk, second.pk) == (holder, contender)
    assert (second.seq, second.prev_hash) == (2, first.hash)
    assert chain.verify().whole


@committing
def test_verify_audit_finds_a_guard_switched_off(front_desk):
    write(Actor(user=front_desk, role=Role.FRONT_DESK, ip=None))
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE patients_auditentry DISABLE TRIGGER patients_audit_no_change")
    try:
        code, out = verify_output()
    finally:
        with connection.cursor() as cursor:
            cursor.execute(
                "ALTER TABLE patients_auditentry ENABLE TRIGGER patients_audit_no_change"
            )
    assert code == 1
    assert "The database trigger patients_audit_no_change is missing or switched off." in out
