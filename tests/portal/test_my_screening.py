"""Issue 15, point 2: a patient with a consultation coming gets a link to the health questions,
answers them in the portal, and the answers are marked as theirs until a doctor reviews them
at consultation (and sees what changed). A patient's "yes" counts at once; any other change
waits for the doctor."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse

from goodskin.actors import Actor
from goodskin.roles import Role
from messaging import sending
from messaging.models import Message, MessageStatus
from patients import patient_answers
from patients.models import AuditAction, AuditEntry, ScreeningAnswer, ScreeningChange
from patients.screening import QUESTIONS
from patients.services import PatientError
from scheduling import services
from scheduling.models import Kind
from tests.factories import PatientFactory, UserFactory, screen
from tests.scheduling.conftest import MONDAY, at, desk_actor
from tests.treatments.conftest import complete_screening, make_plan
from treatments.eligibility import assess

URL = reverse("portal:screening")


@pytest.fixture
def mine(db, patient):
    record = PatientFactory(portal_user=patient, legal_first_name="Rosa", consent_email=True)
    screen(record, untreated_varicose="yes")
    complete_screening(record)  # "no" to every other question
    return record


def all_answers(**changed) -> dict:
    """Every question as the portal form posts it: the given answers, "no" elsewhere."""
    return {q.key: changed.get(q.key, "no") for q in QUESTIONS}


def row(record, key) -> ScreeningAnswer:
    return ScreeningAnswer.objects.get(patient=record, question=key)


def test_the_form_asks_in_plain_words_and_shows_the_answers_in_force(client, patient, mine):
    client.force_login(patient)
    page = client.get(URL).content.decode()
    assert "Are you pregnant, or could you be?" in page
    assert "Critical limb ischaemia" not in page
    assert 'value="yes" autocomplete="off" checked' in page  # untreated varicose: yes


def test_a_yes_counts_at_once_and_is_marked_as_the_patients(client, patient, mine):
    client.force_login(patient)
    response = client.post(URL, all_answers(pregnancy="yes", untreated_varicose="yes"))
    assert response.status_code == 302
    pregnancy = row(mine, "pregnancy")
    assert (pregnancy.answer, pregnancy.from_patient, pregnancy.recorded_by) == (
        "yes",
        True,
        patient,
    )
    change = ScreeningChange.objects.filter(patient=mine, question="pregnancy").first()
    assert (change.old_answer, change.new_answer, change.changed_by) == ("no", "yes", patient)
    entry = AuditEntry.objects.filter(patient=mine, action=AuditAction.CHANGE).order_by("-id")[0]
    assert entry.user == patient and "pregnancy" in entry.details["from_patient"]


def test_a_no_waits_for_the_doctor_and_the_clinics_yes_stays(client, patient, mine):
    client.force_login(patient)
    client.post(URL, all_answers(untreated_varicose="no"))
    varicose = row(mine, "untreated_varicose")
    assert (varicose.answer, varicose.patient_answer, varicose.from_patient) == ("yes", "no", False)
    # The gate still reads the clinic's answer: nothing the patient says lets treatment through.
    from patients.selectors import screening_summary

    assert screening_summary(mine).untreated_varicose
    # The form shows the patient their own answer, as they sent it.
    page = client.get(URL).content.decode()
    assert page.count("checked") == len(QUESTIONS)


def test_staff_pages_mark_the_patients_answers_until_a_doctor_reviews_them(
    client, patient, mine, doctor, front_desk
):
    client.force_login(patient)
    client.post(URL, all_answers(pregnancy="yes", untreated_varicose="no"))
    client.force_login(front_desk)
    detail = client.get(reverse("patients:detail", args=[mine.pk])).content.decode()
    assert "The patient answered 2 screening questions online." in detail
    form = client.get(reverse("patients:screening", args=[mine.pk])).content.decode()
    assert "Answers from the patient, not reviewed yet" in form
    assert "Gone through with the patient" not in form  # a doctor reviews
    review = reverse("patients:review_answers", args=[mine.pk])
    assert client.post(review).status_code == 403

    client.force_login(doctor)
    page = client.get(reverse("treatments:consultation_create", args=[mine.pk]))
    table = page.context["to_review"]
    assert [(r.question, r.clinic, r.patient, r.counted) for r in table] == [
        ("pregnancy", "no", "yes", True),
        ("untreated_varicose", "yes", "no", False),
    ]
    assert "Gone through with the patient: accept these answers" in page.content.decode()
    back = reverse("treatments:consultation_create", args=[mine.pk])
    response = client.post(review, {"next": back})
    assert response.url == back
    assert row(mine, "untreated_varicose").answer == "no"
    assert row(mine, "untreated_varicose").recorded_by == doctor
    assert not ScreeningAnswer.objects.filter(patient=mine, from_patient=True).exists()
    assert not ScreeningAnswer.objects.filter(patient=mine).exclude(patient_answer="").exists()
    detail = client.get(reverse("patients:detail", args=[mine.pk])).content.decode()
    assert "screening questions online" not in detail


def test_a_doctor_saving_the_screening_form_reviews_the_answers(client, patient, mine, doctor):
    client.force_login(patient)
    client.post(URL, all_answers(untreated_varicose="no"))
    client.force_login(doctor)
    page = client.get(reverse("patients:screening", args=[mine.pk]))
    data = {
        name: field.initial if field.initial is not None else ""
        for name, field in page.context["form"].fields.items()
    }
    client.post(reverse("patients:screening", args=[mine.pk]), data)
    assert row(mine, "untreated_varicose").patient_answer == ""


def test_only_the_patient_answers_their_own_questions(mine, front_desk, db):
    other = UserFactory(username="someone", role=Role.PATIENT)
    for actor in (
        Actor(user=other, role=Role.PATIENT),
        Actor(user=front_desk, role=Role.FRONT_DESK),
    ):
        with pytest.raises(PatientError):
            patient_answers.record_patient_screening(
                patient=mine, answers={"pregnancy": "yes"}, by=actor
            )
    assert row(mine, "pregnancy").answer == "no"


def test_bad_posts_change_nothing(client, patient, mine):
    client.force_login(patient)
    before = list(ScreeningAnswer.objects.filter(patient=mine).values())
    for bad in ({}, {"pregnancy": "maybe"}, all_answers(pregnancy="\x00"), {"nope": "yes"}):
        response = client.post(URL, bad)
        assert response.status_code == 200
        assert "Answer each question." in response.content.decode()
    assert list(ScreeningAnswer.objects.filter(patient=mine).values()) == before


def test_other_roles_and_strangers_cannot_open_it(client, front_desk, db):
    client.force_login(front_desk)
    assert client.get(URL).status_code == 403
    client.logout()
    assert client.get(URL).status_code == 302


def test_a_consultation_booked_sends_the_link_once(mine, now, hours, front_desk, doctor):
    mine.email = "rosa@example.org"
    mine.save(update_fields=["email"])
    visit = services.book_appointment(
        patient=mine,
        doctor=doctor,
        kind=Kind.CONSULTATION,
        starts_at=at(MONDAY + timedelta(days=3), 10),
        by=desk_actor(front_desk),
    )
    message = Message.objects.get(kind="screening_request")
    assert (message.patient, message.topic_id) == (mine, visit.pk)
    sending.send_batch(50)
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    sent = [m for m in mail.outbox if "health questions" in m.subject]
    assert len(sent) == 1
    assert "http://testserver/portal/health-questions/" in sent[0].body or (
        "/portal/health-questions/" in sent[0].body
    )
    sending.send_batch(50)
    assert len([m for m in mail.outbox if "health questions" in m.subject]) == 1


def test_no_link_for_a_patient_without_a_portal_account_or_a_session(
    mine, now, hours, front_desk, doctor, plan
):
    no_account = PatientFactory()
    services.book_appointment(
        patient=no_account,
        doctor=doctor,
        kind=Kind.CONSULTATION,
        starts_at=at(MONDAY + timedelta(days=3), 10),
        by=desk_actor(front_desk),
    )
    services.book_appointment(
        patient=mine,
        doctor=doctor,
        kind=Kind.REVIEW,
        starts_at=at(MONDAY + timedelta(days=3), 11),
        by=desk_actor(front_desk),
    )
    assert not Message.objects.filter(kind="screening_request").exists()


def test_a_cancelled_consultation_withdraws_the_link(mine, now, hours, front_desk, doctor):
    visit = services.book_appointment(
        patient=mine,
        doctor=doctor,
        kind=Kind.CONSULTATION,
        starts_at=at(MONDAY + timedelta(days=3), 10),
        by=desk_actor(front_desk),
    )
    services.cancel_appointment(
        appointment=visit, by=desk_actor(front_desk), cancelled_by="patient", reason="ill"
    )
    sending.send_batch(50)
    message = Message.objects.get(kind="screening_request")
    assert message.status == MessageStatus.CANCELLED


def test_the_gate_blocks_at_once_on_a_patients_yes(client, patient, mine, doctor, now, hours):
    screen(mine, untreated_varicose="no")
    plan = make_plan(mine, doctor)
    assert not assess(plan).blockers
    client.force_login(patient)
    client.post(URL, all_answers(sclerosant_allergy="yes"))
    assert assess(plan).blockers


@pytest.mark.django_db(transaction=True)
def test_two_sends_at_once_end_as_the_later_one_says():
    """The patient's row is locked while their answers are read and written: without the lock
    the later send ("yes, as the clinic has it") reads the answers before the earlier one
    ("no") is committed, and the earlier one's "no" is left waiting although the patient
    took it back."""
    from django.db import connection

    from patients import audit
    from tests.concurrency import contend

    user = UserFactory(username="rosa", role=Role.PATIENT)
    record = PatientFactory(portal_user=user)
    screen(record, untreated_varicose="yes")
    connection.close()
    actor = Actor(user=user, role=Role.PATIENT)

    def send(answer):
        return lambda: patient_answers.record_patient_screening(
            patient=record, answers={"untreated_varicose": answer}, by=actor
        )

    holder, contender, waited = contend(send("no"), send("yes"), pause=(audit, "record"))
    assert holder.waiting == 1 and contender.waiting == 0, (holder, contender)
    assert waited
    assert row(record, "untreated_varicose").patient_answer == ""


@pytest.mark.django_db(transaction=True)
def test_a_review_during_a_send_accepts_what_the_patient_said_last(doctor):
    """The doctor's review locks the patient's row before reading the answers: without the
    lock it reads the patient's earlier "no" while their "I don't know" is being saved, and
    accepts the stale "no"."""
    from django.db import connection

    from patients import audit
    from tests.concurrency import contend

    user = UserFactory(username="rosa", role=Role.PATIENT)
    record = PatientFactory(portal_user=user)
    screen(record, untreated_varicose="yes")
    patient = Actor(user=user, role=Role.PATIENT)
    patient_answers.record_patient_screening(
        patient=record, answers={"untreated_varicose": "no"}, by=patient
    )
    connection.close()

    def send():
        return patient_answers.record_patient_screening(
            patient=record, answers={"untreated_varicose": "unknown"}, by=patient
        )

    def review():
        return patient_answers.review_patient_answers(
            patient=record, by=Actor(user=doctor, role=Role.DOCTOR)
        )

    holder, contender, waited = contend(send, review, pause=(audit, "record"))
    assert contender == 1, contender
    assert waited
    assert row(record, "untreated_varicose").answer == "unknown"
