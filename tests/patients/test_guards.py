"""Every transaction and row lock in patients/services.py is there for a reason: each test here
commits (two connections, two threads; see tests/concurrency.py) and fails when the guard it
names is removed."""

import uuid
from dataclasses import replace
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import DatabaseError, transaction
from django.utils import timezone

from goodskin.actors import Actor
from goodskin.roles import Role
from patients import audit, services
from patients.models import AuditEntry, Patient, PortalInvitation, ScreeningChange
from tests.concurrency import contend
from tests.factories import PatientFactory, screen

committing = pytest.mark.django_db(transaction=True)
# Where a durable service is held open: its audit entry is the last write of its transaction.
AT_AUDIT = (audit, "record")
REGISTRATION = {
    "legal_first_name": "Ada",
    "legal_last_name": "Byron",
    "date_of_birth": "1985-12-10",
    "email": "ada@example.org",
}


@pytest.fixture
def desk(front_desk) -> Actor:
    return Actor(user=front_desk, role=Role.FRONT_DESK, ip="127.0.0.1")


@pytest.fixture
def as_doctor(doctor) -> Actor:
    return Actor(user=doctor, role=Role.DOCTOR, ip="127.0.0.1")


@pytest.fixture
def audit_down(monkeypatch):
    """The audit insert fails, as any statement can: what was written before it must go too."""

    def fail(**kwargs):
        raise DatabaseError("audit insert failed")

    monkeypatch.setattr(audit, "record", fail)


def link(token: str) -> str:
    return f"https://clinic.test/open/{token}/"


def invitation(patient, token: str, email: str | None = None) -> PortalInvitation:
    return PortalInvitation.objects.create(
        patient=patient,
        email=email or patient.email,
        token_hash=services._token_hash(token),
        expires_at=timezone.now() + timedelta(days=7),
    )


# --- register_patient -------------------------------------------------------------------------


@committing
def test_a_patient_is_not_registered_without_the_audit_entry(desk, audit_down):
    # register_patient's transaction: the record and its audit entry commit together.
    with pytest.raises(DatabaseError):
        services.register_patient(data=REGISTRATION, by=desk)
    assert not Patient.objects.exists()


@committing
def test_a_registration_posted_twice_at_once_saves_one_patient(desk):
    # The unique form token: the second post waits for the first and finds its patient.
    token = uuid.uuid4()

    def register():
        return services.register_patient(data=REGISTRATION, by=desk, form_token=token)

    holder, contender, waited = contend(register, register)
    assert isinstance(holder, Patient)
    assert isinstance(contender, services.AlreadySaved)
    assert contender.saved == holder
    assert waited
    assert Patient.objects.count() == 1


# --- update_patient ---------------------------------------------------------------------------


@committing
def test_two_saves_of_one_version_at_once_let_the_second_see_the_first(desk):
    # update_patient's row lock and its transaction (the contender runs in autocommit): the
    # second save waits, finds the version moved on, and is told who changed what.
    patient = PatientFactory(city="Portland")

    def save(city):
        return lambda: services.update_patient(
            patient_id=patient.pk, version=1, data={"city": city}, by=desk
        )

    holder, contender, waited = contend(save("Salem"), save("Eugene"))
    assert isinstance(holder, Patient), holder
    assert isinstance(contender, services.StaleRecord), contender
    assert waited
    assert contender.changes[0]["fields"] == {"city": ["Portland", "Salem"]}
    patient.refresh_from_db()
    assert (patient.city, patient.version) == ("Salem", 2)


# --- record_screening -------------------------------------------------------------------------


def _answer(patient, by, answer):
    return lambda: services.record_screening(
        patient=patient, answers={"migraine": (answer, "")}, by=by
    )


@committing
def test_two_screenings_at_once_keep_an_unbroken_history_of_an_answer(desk):
    # record_screening's lock and its transaction: the second change reads the first one's
    # answer, so the history goes no -> yes -> unknown, not no -> yes and no -> unknown.
    patient = PatientFactory()
    screen(patient, migraine="no")
    holder, contender, waited = contend(
        _answer(patient, desk, "yes"), _answer(patient, desk, "unknown")
    )
    assert (holder, contender) == (1, 1)
    assert waited
    history = ScreeningChange.objects.filter(patient=patient).order_by("changed_at", "id")
    assert [(c.old_answer, c.new_answer) for c in history] == [
        ("", "no"),
        ("no", "yes"),
        ("yes", "unknown"),
    ]


@committing
def test_two_first_answers_to_a_question_at_once_keep_an_unbroken_history(desk):
    # The lock is on the patient: a question answered for the first time has no answer row
    # to lock yet.
    patient = PatientFactory()
    holder, contender, waited = contend(_answer(patient, desk, "yes"), _answer(patient, desk, "no"))
    assert (holder, contender) == (1, 1)
    assert waited
    history = ScreeningChange.objects.filter(patient=patient).order_by("changed_at", "id")
    assert [(c.old_answer, c.new_answer) for c in history] == [("", "yes"), ("yes", "no")]


# --- merge_patients ---------------------------------------------------------------------------


@committing
def test_two_people_merging_a_pair_each_way_at_once_merge_it_once(as_doctor):
    # merge_patients' lock on both rows and its transaction: the second merge waits and finds
    # the pair merged, instead of merging each record into the other (both would vanish).
    first, second = PatientFactory(), PatientFactory()

    def merge(keep, duplicate):
        return lambda: services.merge_patients(
            keep_id=keep.pk, duplicate_id=duplicate.pk, reason="Typed twice", by=as_doctor
        )

    holder, contender, waited = contend(merge(first, second), merge(second, first), pause=AT_AUDIT)
    assert isinstance(holder, Patient), holder
    assert isinstance(contender, services.PatientError), contender
    assert waited
    assert list(Patient.objects.active()) == [first]
    assert AuditEntry.objects.filter(action="merge").count() == 2


# --- invite_to_portal -------------------------------------------------------------------------


@committing
def test_an_invitation_that_fails_to_save_leaves_the_earlier_link_working(desk, audit_down):
    # invite_to_portal's transaction: the earlier link is expired only with the new one saved.
    patient = PatientFactory()
    earlier = invitation(patient, "earlier")
    with pytest.raises(DatabaseError):
        services.invite_to_portal(patient=patient, by=desk, link_for=link)
    earlier.refresh_from_db()
    assert earlier.is_usable()
    assert PortalInvitation.objects.count() == 1
    assert not mail.outbox


@committing
def test_an_invitation_sent_twice_at_once_is_sent_once(desk):
    # The unique form token: the second click waits for the first's invitation and sends none.
    patient, token = PatientFactory(), uuid.uuid4()

    def invite():
        return services.invite_to_portal(patient=patient, by=desk, link_for=link, form_token=token)

    holder, contender, waited = contend(invite, invite, pause=AT_AUDIT)
    assert isinstance(holder, PortalInvitation)
    assert isinstance(contender, services.AlreadySaved)
    assert waited
    assert PortalInvitation.objects.count() == 1
    assert len(mail.outbox) == 1


# --- accept_invitation ------------------------------------------------------------------------


def _accept(token: str):
    return lambda: services.accept_invitation(token=token, password="a long Passw0rd!", ip=None)


@committing
def test_a_link_submitted_twice_at_once_opens_one_account_and_says_it_was_used(db):
    # accept_invitation's lock on the invitation and its transaction: the second submit waits,
    # then reads the link as used.
    patient = PatientFactory()
    invitation(patient, "one")
    holder, contender, waited = contend(_accept("one"), _accept("one"), pause=AT_AUDIT)
    assert isinstance(holder, get_user_model()), holder
    assert isinstance(contender, services.PatientError), contender
    assert str(contender) == "This link has expired or has already been used."
    assert waited
    assert get_user_model().objects.count() == 1


@committing
def test_two_links_of_one_patient_used_at_once_open_one_account(db):
    # accept_invitation's lock on the patient: two invitations sent at once both stay usable
    # (neither saw the other), and a patient has one portal account.
    patient = PatientFactory(email="new@example.org")
    invitation(patient, "first", email="old@example.org")
    invitation(patient, "second")
    holder, contender, waited = contend(_accept("first"), _accept("second"), pause=AT_AUDIT)
    assert isinstance(holder, get_user_model()), holder
    assert isinstance(contender, services.PatientError), contender
    assert waited
    assert get_user_model().objects.count() == 1
    patient.refresh_from_db()
    assert patient.portal_user == holder


# --- durable entry points ---------------------------------------------------------------------


@committing
@pytest.mark.parametrize("service", ["merge_patients", "invite_to_portal", "accept_invitation"])
def test_entry_points_that_must_commit_on_their_own_refuse_an_outer_transaction(
    service, desk, as_doctor
):
    # durable=True: mail leaves after invite_to_portal's commit, the open_account view logs
    # the new account in, and a merge takes its row locks first, in id order.
    patient = PatientFactory()
    invitation(patient, "open")
    calls = {
        "merge_patients": lambda: services.merge_patients(
            keep_id=patient.pk,
            duplicate_id=PatientFactory().pk,
            reason="Typed twice",
            by=as_doctor,
        ),
        "invite_to_portal": lambda: services.invite_to_portal(
            patient=PatientFactory(), by=desk, link_for=link
        ),
        "accept_invitation": _accept("open"),
    }
    with pytest.raises(RuntimeError, match="durable"), transaction.atomic():
        calls[service]()


# --- record_export.build_record ---------------------------------------------------------------


@committing
def test_an_export_reads_the_record_at_one_moment(desk, monkeypatch):
    """one_moment's REPEATABLE READ: a change committed by someone else while the export runs,
    after its personal details were read, shows in none of its sections, not in the audit
    trail alone (which would name a change the details don't show)."""
    import threading

    from django.db import connection

    from patients import record_export

    patient = PatientFactory(email="before@example.org")
    real = record_export._sections["demographics"]

    def change_meanwhile() -> None:
        try:
            services.update_patient(
                patient_id=patient.pk,
                version=patient.version,
                data={"email": "after@example.org"},
                by=desk,
            )
        finally:
            connection.close()

    def demographics_then_a_change(record_of):
        details = real.build(record_of)
        other = threading.Thread(target=change_meanwhile)
        other.start()
        other.join(30)
        return details

    monkeypatch.setitem(
        record_export._sections, "demographics", replace(real, build=demographics_then_a_change)
    )
    record = record_export.build_record(patient)
    assert Patient.objects.get(pk=patient.pk).email == "after@example.org"
    assert record["demographics"]["email"] == "before@example.org"
    assert [e for e in record["audit_trail"] if e["action"]["value"] == "change"] == []
