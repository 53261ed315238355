"""The screening as the patient answers it in the portal before a consultation (issue 15,
point 2), and the doctor's review of those answers.

A patient's "yes" counts at once: it can only stop a treatment, never let one through. Any
other change (a "no" where the clinic has "yes", say) waits for the doctor, beside the clinic's
answer, which stays in force. Until a doctor has gone through them, the patient's answers are
marked as theirs on every page that shows the screening."""

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from goodskin.actors import Actor
from goodskin.db import locked
from goodskin.roles import Role

from . import audit
from .models import AuditAction, Patient, ScreeningAnswer, ScreeningChange
from .screening import BY_KEY, QUESTIONS, Answer
from .services import PatientError, record_screening


@dataclass(frozen=True)
class Sent:
    """What the patient's answers did: counted at once (a new "yes"), or waiting for the
    doctor (any other change)."""

    counted: int
    waiting: int


def _own(patient: Patient, by: Actor) -> None:
    if by.role != Role.PATIENT or patient.portal_user_id != getattr(by.user, "pk", None):
        raise PatientError(_("These health questions are not yours."))


@transaction.atomic(durable=True)
def record_patient_screening(*, patient: Patient, answers: dict[str, str], by: Actor) -> Sent:
    """The patient's answers {question: yes/no/unknown} from the portal."""
    _own(patient, by)
    return _record(patient=patient, answers=answers, by=by)


def record_online_screening(*, patient: Patient, answers: dict[str, str], by: Actor) -> Sent:
    """The answers a new patient gave on the public booking page, inside the caller's
    transaction (the one creating the record): theirs, until a doctor goes through them."""
    return _record(patient=patient, answers=answers, by=by)


def _record(*, patient: Patient, answers: dict[str, str], by: Actor) -> Sent:
    if set(answers) - set(BY_KEY) or set(answers.values()) - set(Answer.values):
        raise PatientError(_("Answer each question with yes, no or I don't know."))
    # The patient's row, as record_screening locks it: one change at a time.
    locked(Patient.objects.only("pk")).get(pk=patient.pk)
    current = {a.question: a for a in ScreeningAnswer.objects.filter(patient=patient)}
    now, counted, waiting = timezone.now(), {}, {}
    for key, answer in answers.items():
        row = current.get(key)
        clinic = row.answer if row else Answer.UNKNOWN
        if answer == clinic:
            if row and row.patient_answer:  # agrees with the clinic after all
                row.patient_answer, row.patient_answered_at = "", None
                row.save(update_fields=["patient_answer", "patient_answered_at"])
            continue
        if answer == Answer.YES:
            counted[key] = (answer, row.note if row else "")
        else:
            waiting[key] = answer
    if counted:
        record_screening(patient=patient, answers=counted, by=by)
        ScreeningAnswer.objects.filter(patient=patient, question__in=counted).update(
            from_patient=True, patient_answer="", patient_answered_at=now
        )
    for key, answer in waiting.items():
        ScreeningAnswer.objects.update_or_create(
            patient=patient,
            question=key,
            defaults={"patient_answer": answer, "patient_answered_at": now},
            create_defaults={
                "answer": Answer.UNKNOWN,
                "patient_answer": answer,
                "patient_answered_at": now,
                "recorded_by": None,
            },
        )
    if counted or waiting:
        audit.record(
            actor=by,
            patient=patient,
            action=AuditAction.CHANGE,
            subject="screening",
            details={"from_patient": sorted([*counted, *waiting])},
        )
    return Sent(counted=len(counted), waiting=len(waiting))


@dataclass(frozen=True)
class ToReview:
    """One answer of the patient's that a doctor hasn't gone through yet."""

    question: str
    label: str
    clinic: str  # the clinic's answer in force (for a counted "yes": the one it replaced)
    patient: str
    answered_at: datetime | None
    counted: bool  # the patient's answer is in force already (a "yes")


def answers_to_review(patient: Patient) -> list[ToReview]:
    """The patient's answers no doctor has reviewed, in the checklist's order (two queries)."""
    rows = {
        row.question: row
        for row in ScreeningAnswer.objects.filter(patient=patient).filter(
            Q(from_patient=True) | ~Q(patient_answer="")
        )
    }
    if not rows:
        return []
    before = {}
    counted = [key for key, row in rows.items() if row.from_patient]
    for change in ScreeningChange.objects.filter(patient=patient, question__in=counted):
        before.setdefault(change.question, change.old_answer or Answer.UNKNOWN)  # newest first
    found = []
    for question in QUESTIONS:
        row = rows.get(question.key)
        if row is None:
            continue
        found.append(
            ToReview(
                question=question.key,
                label=str(question.label),
                clinic=before.get(question.key, "") if row.from_patient else row.answer,
                patient=row.answer if row.from_patient else row.patient_answer,
                answered_at=row.patient_answered_at,
                counted=row.from_patient,
            )
        )
    return found


@transaction.atomic(durable=True)
def review_patient_answers(*, patient: Patient, by: Actor) -> int:
    """A doctor has gone through the patient's answers with them: the waiting ones become the
    clinic's answers, and none is marked as the patient's any more. Returns how many."""
    if by.role != Role.DOCTOR:
        raise PatientError(_("A doctor reviews the patient's answers."))
    locked(Patient.objects.only("pk")).get(pk=patient.pk)
    rows = list(
        ScreeningAnswer.objects.filter(patient=patient).filter(
            Q(from_patient=True) | ~Q(patient_answer="")
        )
    )
    waiting = {row.question: (row.patient_answer, row.note) for row in rows if row.patient_answer}
    if waiting:
        record_screening(patient=patient, answers=waiting, by=by)
    ScreeningAnswer.objects.filter(pk__in=[row.pk for row in rows]).update(
        from_patient=False, patient_answer="", patient_answered_at=None
    )
    audit.record(
        actor=by,
        patient=patient,
        action=AuditAction.CHANGE,
        subject="screening",
        details={"reviewed": sorted(row.question for row in rows)},
    )
    return len(rows)
