"""The patient's record page kept whole under one fingerprint (patients.record_page, issue 19):
every row the page is written from, the other apps' notices and panels included, is in the
fingerprint, so any change shows on the next page, whoever wrote it, exactly as on a page
written afresh; what changes with the clock alone (an invitation expiring, a birthday) shows at
its instant; each request gets its own form token and invitation token, each role its own page;
and a kept page is read in a fixed number of queries, with its audit entry."""

import re
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from goodskin.actors import Actor
from goodskin.roles import Role
from messaging.models import Message, MessageStatus
from patients import record_page, services
from patients.models import AuditEntry, Patient, PortalInvitation
from scheduling import services as scheduling_services
from scheduling.models import Kind, WaitlistEntry
from tests.conftest import written_afresh
from tests.factories import PatientFactory, UserFactory, screen

from .conftest import MONDAY, at, desk_actor
from .test_card_cache import normalised
from .test_record_panel import record_with_visits

pytestmark = pytest.mark.django_db
committing = pytest.mark.django_db(transaction=True)  # as production runs
ONE_DAY = timedelta(days=1)


@dataclass
class Record:
    patient: Patient
    plan: object
    booked: list
    doctor: object
    front_desk: object
    recorder: object  # the doctor who recorded a screening answer
    changer: object  # the front desk person who last changed the patient's details


@pytest.fixture
def record(now, hours, front_desk, doctor) -> Record:
    patient, plan, _past, booked = record_with_visits(front_desk, doctor)
    # No aftercare advice by message: the record shows the aftercare sheet's notice.
    Patient.objects.filter(pk=patient.pk).update(consent_aftercare=False)
    recorder = UserFactory(username="dr.recorder", first_name="Rita", role=Role.DOCTOR)
    screen(patient, by=recorder, migraine="yes")
    changer = UserFactory(username="desk.changer", first_name="Carl", role=Role.FRONT_DESK)
    patient.refresh_from_db()
    services.update_patient(
        patient_id=patient.pk,
        version=patient.version,
        data={"notes": "Prefers mornings"},
        by=Actor(user=changer, role=Role.FRONT_DESK),
    )
    patient.refresh_from_db()
    return Record(patient, plan, booked, doctor, front_desk, recorder, changer)


def open_record(client, user, patient) -> str:
    client.force_login(user)
    response = client.get(reverse("patients:detail", args=[patient.pk]))
    assert response.status_code == 200
    return response.content.decode()


def _account(r: Record):
    account = UserFactory(username="katherine", role=Role.PATIENT)
    Patient.objects.filter(pk=r.patient.pk).update(portal_user=account)
    return account


def _invitation(r: Record, **fields) -> PortalInvitation:
    values = {"email": r.patient.email, "expires_at": timezone.now() + timedelta(days=7), **fields}
    return PortalInvitation.objects.create(
        patient=r.patient, token_hash=f"{PortalInvitation.objects.count()}" * 64, **values
    )


def _failed_message(r: Record) -> Message:
    return Message.objects.create(
        key=f"k:{r.patient.pk}",
        patient=r.patient,
        kind="touch_up",
        channel="email",
        due_at=timezone.now(),
        give_up_at=timezone.now(),
        status=MessageStatus.FAILED,
    )


# Each: (what is there before the page is first opened, the change), one per kind of row.
def _details_edited(r):
    services.update_patient(
        patient_id=r.patient.pk,
        version=r.patient.version,
        data={"notes": "Prefers afternoons"},
        by=desk_actor(r.front_desk),
    )


def _notes_written_directly(r):  # a write path that writes no audit entry
    Patient.objects.filter(pk=r.patient.pk).update(notes="Allergic to latex")


def _answer_recorded(r):
    screen(r.patient, by=r.doctor, estrogen="yes")


def _recorder_renamed(r):
    r.recorder.first_name = "Roberta"
    r.recorder.save(update_fields=["first_name"])


def _changer_renamed(r):
    r.changer.first_name = "Carla"
    r.changer.save(update_fields=["first_name"])


def _invited(r):
    _invitation(r)


def _invited_again(r):  # the first one still works, and expires first
    later = _invitation(r, email="katherine@example.net", expires_at=timezone.now() + 9 * ONE_DAY)
    PortalInvitation.objects.filter(pk=later.pk).update(sent_at=timezone.now() + ONE_DAY)


def _invitation_accepted(r):
    PortalInvitation.objects.filter(patient=r.patient).update(accepted_at=timezone.now())
    _account(r)


def _two_step_turned_on(r):
    TOTPDevice.objects.create(user=r.patient.portal_user, name="phone", confirmed=True)


def _message_given_up(r):
    _failed_message(r)


def _message_handled(r):
    Message.objects.filter(patient=r.patient).update(handled_at=timezone.now())


def _plan_stopped(r):
    type(r.plan).objects.filter(pk=r.plan.pk).update(status="stopped", stop_reason="Moved away")


def _visit_cancelled(r):
    scheduling_services.cancel_appointment(
        appointment=r.booked[0], by=desk_actor(r.front_desk), cancelled_by="clinic", reason="Ill"
    )


def _consultation_booked(r):
    scheduling_services.book_appointment(
        patient=r.patient,
        doctor=r.doctor,
        kind=Kind.CONSULTATION,
        starts_at=at(MONDAY + timedelta(days=1), 9),
        by=desk_actor(r.front_desk),
    )


def _doctor_renamed(r):
    r.doctor.first_name = "Renamed"
    r.doctor.save(update_fields=["first_name"])


def _waitlisted(r):
    WaitlistEntry.objects.create(patient=r.patient, kind=Kind.CONSULTATION, not_before=MONDAY)


CHANGES = [
    (None, _details_edited),
    (None, _notes_written_directly),
    (None, _answer_recorded),
    (None, _recorder_renamed),
    (None, _changer_renamed),
    (None, _invited),
    (_invited, _invited_again),
    (_invited, _invitation_accepted),
    (_account, _two_step_turned_on),
    (None, _message_given_up),
    (_message_given_up, _message_handled),
    (None, _plan_stopped),
    (None, _visit_cancelled),
    (None, _consultation_booked),
    (None, _doctor_renamed),
    (None, _waitlisted),
]


@committing
@pytest.mark.parametrize("before, change", CHANGES, ids=[c.__name__ for _b, c in CHANGES])
def test_every_change_to_what_the_record_shows_is_on_the_next_page_as_written_afresh(
    before, change, client, record
):
    if before is not None:
        before(record)
    record.patient.refresh_from_db()
    first = open_record(client, record.front_desk, record.patient)
    with CaptureQueriesContext(connection) as kept:
        client.get(reverse("patients:detail", args=[record.patient.pk]))
    assert not any("patients_screeninganswer" in q["sql"] for q in kept.captured_queries)
    record.patient.refresh_from_db()
    change(record)
    record.patient.refresh_from_db()
    shown = open_record(client, record.front_desk, record.patient)
    with written_afresh():
        afresh = open_record(client, record.front_desk, record.patient)
    assert normalised(shown) == normalised(afresh)
    assert normalised(shown) != normalised(first)  # the change is on the page


def test_a_kept_record_is_read_in_a_fixed_number_of_queries_and_still_audited(client, record):
    open_record(client, record.front_desk, record.patient)  # written and kept
    views = AuditEntry.objects.filter(patient=record.patient, action="view").count()
    with CaptureQueriesContext(connection) as kept:
        response = client.get(reverse("patients:detail", args=[record.patient.pk]))
    assert response.status_code == 200
    tables = " ".join(q["sql"] for q in kept.captured_queries)
    # The session, the user, the patient, the audit entry, the fingerprint: nothing the page
    # shows is read again.
    assert len(kept.captured_queries) <= 7, [q["sql"][:80] for q in kept.captured_queries]
    for shown in ("patients_screeninganswer", "scheduling_appointment", "messaging_message"):
        assert f'FROM "{shown}"' not in tables
    assert AuditEntry.objects.filter(patient=record.patient, action="view").count() == views + 1


def test_each_request_gets_its_own_tokens_and_the_kept_forms_post(client, record):
    first = open_record(client, record.front_desk, record.patient)
    second = open_record(client, record.front_desk, record.patient)
    tokens = [re.findall(r'name="form_token" value="([^"]*)"', page) for page in (first, second)]
    assert len(tokens[0]) == len(tokens[1]) == 1 and tokens[0] != tokens[1]
    assert "\x00" not in second
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]*)"', second)[1]
    client.handler.enforce_csrf_checks = True
    response = client.post(
        reverse("patients:invite", args=[record.patient.pk]),
        {"csrfmiddlewaretoken": csrf, "form_token": tokens[1][0]},
    )
    assert response.status_code == 302
    assert PortalInvitation.objects.filter(patient=record.patient).count() == 1


def test_each_role_gets_its_own_page(client, record):
    desk = open_record(client, record.front_desk, record.patient)
    doctor = open_record(client, record.doctor, record.patient)
    again = open_record(client, record.front_desk, record.patient)
    merge = reverse("patients:merge", args=[record.patient.pk])
    assert merge in doctor and merge not in desk and merge not in again
    assert "Consultations, plans and charts" in doctor and "Treatment plans" in desk


def test_an_invitation_expires_at_its_instant_with_nothing_written(client, record, now):
    invitation = _invitation(record, expires_at=timezone.now() + timedelta(hours=1))
    assert "Expired" not in open_record(client, record.front_desk, record.patient)
    now.move_to(invitation.expires_at - timedelta(microseconds=1))
    assert "Expired" not in open_record(client, record.front_desk, record.patient)
    now.move_to(invitation.expires_at)
    assert "Expired" in open_record(client, record.front_desk, record.patient)


def test_the_age_moves_on_the_birthday_with_nothing_written(client, front_desk, now):
    today = timezone.localdate()
    # No visit, no invitation: nothing else on the page moves with the clock.
    patient = PatientFactory(date_of_birth=date(today.year - 40, today.month, today.day) + ONE_DAY)
    assert "(39 years)" in open_record(client, front_desk, patient)
    now.shift(ONE_DAY)
    assert "(40 years)" in open_record(client, front_desk, patient)


def test_every_registered_part_is_in_the_fingerprint():
    sql = record_page.fingerprint_sql()
    assert len(record_page._parts) >= 4  # the panel's three and the given-up messages
    for part in (*record_page.OWN_PARTS, *record_page._parts):
        assert part.sql in sql and part.clock in sql


def test_the_page_is_written_when_the_cache_is_down(client, record, settings):
    from tests.conftest import CACHE_DOWN

    settings.CACHES = CACHE_DOWN
    page = open_record(client, record.front_desk, record.patient)
    assert record.patient.display_name in page and "Prefers mornings" in page


@committing
def test_a_page_is_written_from_rows_read_after_its_fingerprint(client, record, rf):
    """The patient as the access check read it may be older than the fingerprint read after
    it: the page kept under the fingerprint is written from the rows as they are then."""
    stale = Patient.objects.get(pk=record.patient.pk)
    Patient.objects.filter(pk=record.patient.pk).update(notes="Written in between")
    request = rf.get(reverse("patients:detail", args=[stale.pk]))
    request.user = record.front_desk
    assert "Written in between" in record_page.body(request, stale)
    assert "Written in between" in open_record(client, record.front_desk, record.patient)
