"""This app's sections of the exported record (record_export): who the patient is, what they
agreed to, their screening with every earlier answer, their portal invitations and the audit
trail of everyone who read or changed their record."""

from django.utils.translation import gettext_lazy as _

from goodskin.roles import Role

from . import audit_words
from .models import (
    AuditAction,
    AuditEntry,
    Channel,
    Patient,
    PortalInvitation,
    ScreeningAnswer,
    ScreeningChange,
    Sex,
)
from .record_export import choice, day, person, register_section, when
from .screening import BY_KEY, Answer

DEMOGRAPHICS_LABELS = {
    "legal_first_name": _("Legal first name"),
    "legal_last_name": _("Legal last name"),
    "preferred_name": _("Preferred name"),
    "date_of_birth": _("Date of birth"),
    "sex": _("Sex"),
    "phone": _("Mobile phone"),
    "email": _("Email"),
    "address_line1": _("Address"),
    "address_line2": _("Address line 2"),
    "city": _("City"),
    "state": _("State"),
    "postal_code": _("ZIP code"),
    "emergency_contact_name": _("Emergency contact"),
    "emergency_contact_relation": _("Relation"),
    "emergency_contact_phone": _("Emergency contact phone"),
    "portal_account": _("Portal login name"),
    "created_by": _("Registered by"),
    "updated_at": _("Last changed"),
    "merged_into": _("Merged into record"),
    "merged_records": _("Records merged into this one"),
}

CONSENT_LABELS = {
    "reminder_channel": _("Messages by"),
    "email": _("Messages by email"),
    "sms": _("Messages by text"),
    "reminders": _("Appointment reminders"),
    "aftercare": _("Aftercare advice"),
    "photos": _("Clinical photos"),
    "given": _("Agreed"),
    "on": _("Since"),
}

SCREENING_LABELS = {
    "confirmed_at": _("Last gone through with the patient"),
    "confirmed_by": _("Gone through by"),
    "current": _("Answers now"),
    "changes": _("Every change, newest first"),
    "question": _("Question"),
    "answer": _("Answer"),
    "note": _("Note"),
    "recorded_at": _("Recorded"),
    "recorded_by": _("Recorded by"),
    "old_answer": _("Earlier answer"),
    "old_note": _("Earlier note"),
    "new_answer": _("New answer"),
    "new_note": _("New note"),
    "changed_at": _("Changed"),
    "changed_by": _("Changed by"),
    "from_patient": _("From the patient, not reviewed"),
    "patient_answer": _("Patient's answer to review"),
    "patient_answered_at": _("Patient answered"),
}

INVITATION_LABELS = {
    "email": _("Sent to"),
    "sent_at": _("Sent"),
    "sent_by": _("Sent by"),
    "expires_at": _("Link worked until"),
    "accepted_at": _("Account opened"),
}

AUDIT_LABELS = {
    "who": _("Who"),
    "role": _("Role"),
    "action": _("What"),
    "subject": _("Part of the record"),
    "from_address": _("From (network address)"),
    "record_number": _("Record"),
    "details": _("Details"),
}

CONSENTS = ("email", "sms", "reminders", "aftercare", "photos")


def _loaded(patient: Patient) -> Patient:
    return Patient.objects.select_related(
        "created_by", "portal_user", "screening_confirmed_by"
    ).get(pk=patient.pk)


def demographics(patient: Patient) -> dict:
    patient = _loaded(patient)
    merged = Patient.objects.filter(merged_into=patient).order_by("pk")
    return {
        "legal_first_name": patient.legal_first_name,
        "legal_last_name": patient.legal_last_name,
        "preferred_name": patient.preferred_name,
        "date_of_birth": day(patient.date_of_birth),
        "sex": choice(Sex, patient.sex),
        "phone": str(patient.phone or ""),
        "email": patient.email,
        "address_line1": patient.address_line1,
        "address_line2": patient.address_line2,
        "city": patient.city,
        "state": patient.state,
        "postal_code": patient.postal_code,
        "emergency_contact_name": patient.emergency_contact_name,
        "emergency_contact_relation": patient.emergency_contact_relation,
        "emergency_contact_phone": str(patient.emergency_contact_phone or ""),
        "notes": patient.notes,
        "portal_account": patient.portal_user.get_username() if patient.portal_user else None,
        "created_at": when(patient.created_at),
        "created_by": person(patient.created_by),
        "updated_at": when(patient.updated_at),
        "merged_into": patient.merged_into_id,
        "merged_records": list(merged.values_list("pk", flat=True)),
    }


def consents(patient: Patient) -> dict:
    found = {"reminder_channel": choice(Channel, patient.reminder_channel)}
    for name in CONSENTS:
        found[name] = {
            "given": getattr(patient, f"consent_{name}"),
            "on": day(getattr(patient, f"consent_{name}_on")),
        }
    return found


def question(key: str) -> dict:
    found = BY_KEY.get(key)
    return {"value": key, "label": str(found.label) if found else key}


def screening(patient: Patient) -> dict:
    patient = _loaded(patient)
    answers = ScreeningAnswer.objects.filter(patient=patient).select_related("recorded_by")
    changes = ScreeningChange.objects.filter(patient=patient).select_related("changed_by")
    order = {key: number for number, key in enumerate(BY_KEY)}
    return {
        "confirmed_at": when(patient.screening_confirmed_at),
        "confirmed_by": person(patient.screening_confirmed_by),
        "current": [
            {
                "question": question(a.question),
                "answer": choice(Answer, a.answer),
                "note": a.note,
                "recorded_at": when(a.recorded_at),
                "recorded_by": person(a.recorded_by),
                "from_patient": a.from_patient,
                "patient_answer": choice(Answer, a.patient_answer),
                "patient_answered_at": when(a.patient_answered_at),
            }
            for a in sorted(answers, key=lambda a: order.get(a.question, len(order)))
        ],
        "changes": [
            {
                "question": question(c.question),
                "old_answer": choice(Answer, c.old_answer),
                "old_note": c.old_note,
                "new_answer": choice(Answer, c.new_answer),
                "new_note": c.new_note,
                "changed_at": when(c.changed_at),
                "changed_by": person(c.changed_by),
            }
            for c in changes.order_by("-changed_at", "-id")
        ],
    }


def invitations(patient: Patient) -> list[dict]:
    # Only what the patient was sent and when: the link's hash is no business of the file.
    rows = PortalInvitation.objects.filter(patient=patient).select_related("sent_by")
    return [
        {
            "email": i.email,
            "sent_at": when(i.sent_at),
            "sent_by": person(i.sent_by),
            "expires_at": when(i.expires_at),
            "accepted_at": when(i.accepted_at),
        }
        for i in rows.order_by("sent_at", "id")
    ]


def record_numbers(patient: Patient) -> list[int]:
    """The record and every record merged into it, however many merges deep: a merge moves
    every row to the kept record but the audit trail, which stays where it happened."""
    numbers, frontier = [patient.pk], [patient.pk]
    while frontier:
        frontier = list(
            Patient.objects.filter(merged_into__in=frontier).values_list("pk", flat=True)
        )
        numbers += frontier
    return numbers


def audit_trail(patient: Patient) -> list[dict]:
    entries = (
        AuditEntry.objects.filter(patient__in=record_numbers(patient))
        .select_related("user")
        .order_by("at", "id")
    )
    return [
        {
            "at": when(e.at),
            "who": person(e.user),
            "role": choice(Role, e.role),
            "action": choice(AuditAction, e.action),
            # The code's token for machines, and words for people (the PDF shows the words).
            "subject": {"value": e.subject, "label": audit_words.words(e.subject)},
            "from_address": e.ip,
            "record_number": e.patient_id,
            "details": {"value": e.details, "label": audit_words.details_words(e.details)}
            if e.details
            else None,
        }
        for e in entries
    ]


def register() -> None:
    register_section(
        "demographics",
        _("Personal details"),
        demographics,
        labels=DEMOGRAPHICS_LABELS,
        models=(Patient,),
        order=10,
    )
    register_section(
        "consents", _("Consents and message choices"), consents, labels=CONSENT_LABELS, order=11
    )
    register_section(
        "screening",
        _("Health screening"),
        screening,
        labels=SCREENING_LABELS,
        models=(ScreeningAnswer, ScreeningChange),
        order=12,
    )
    register_section(
        "portal_invitations",
        _("Invitations to the patient portal"),
        invitations,
        labels=INVITATION_LABELS,
        models=(PortalInvitation,),
        order=13,
    )
    register_section(
        "audit_trail",
        _("Who opened or changed this record"),
        audit_trail,
        labels=AUDIT_LABELS,
        models=(AuditEntry,),
        order=90,
    )
