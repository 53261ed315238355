"""Every change to patient records: register, update, screen, merge, invite, export."""

import secrets
import smtplib
import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from goodskin import tokens
from goodskin.actors import Actor
from goodskin.db import locked
from goodskin.roles import Role, group_for

from . import audit, merging, record_files
from .models import (
    AuditAction,
    AuditEntry,
    Patient,
    PortalInvitation,
    ScreeningAnswer,
    ScreeningChange,
)
from .record_export import build_record
from .record_files import RecordFile
from .screening import BY_KEY, Answer

CONSENTS = (
    "consent_email",
    "consent_sms",
    "consent_reminders",
    "consent_aftercare",
    "consent_photos",
)
# Fields an audit entry may name but never copy: free text with clinical detail.
MASKED = {"notes"}


class PatientError(Exception):
    """A use case that can't go ahead; the message is for the person who tried."""


class StaleRecord(PatientError):
    """Someone saved the record after this form was opened."""

    def __init__(self, changes: list[dict]):
        super().__init__(_("Someone else changed this record while you were editing it."))
        self.changes = changes


class AlreadySaved(PatientError):
    """The same form was posted twice (a double click); `saved` is what the first post made."""

    def __init__(self, saved):
        super().__init__(_("This was already saved; nothing was saved twice."))
        self.saved = saved


def _once(model, token: uuid.UUID | None) -> None:
    if token and (saved := model.objects.filter(form_token=token).first()):
        raise AlreadySaved(saved)


def _value(value: Any) -> Any:
    return "" if value is None else str(value)


def _diff(before: dict, after: dict) -> dict:
    return {
        name: (["…", "…"] if name in MASKED else [_value(before.get(name)), _value(new)])
        for name, new in after.items()
        if _value(before.get(name)) != _value(new)
    }


def _stamp_consents(patient: Patient, before: dict) -> None:
    today = timezone.localdate()
    for name in CONSENTS:
        if (
            getattr(patient, name) != before.get(name, False)
            or getattr(patient, f"{name}_on") is None
        ):
            setattr(patient, f"{name}_on", today)


# Not durable: the record and its audit entry stand or fall together in a caller's transaction.
@transaction.atomic
def register_patient(*, data: dict, by: Actor, form_token: uuid.UUID | None = None) -> Patient:
    """Save a new patient; a second post of the same form raises AlreadySaved."""
    _once(Patient, form_token)
    patient = Patient(**data, created_by=by.user, form_token=form_token)
    _stamp_consents(patient, {})
    try:
        # A savepoint: the unique token refuses the second of two posts racing each other,
        # and a caller's transaction stays usable.
        with transaction.atomic():
            patient.save()
    except IntegrityError as error:
        raise AlreadySaved(Patient.objects.filter(form_token=form_token).first()) from error
    audit.record(
        actor=by,
        patient=patient,
        action=AuditAction.CREATE,
        subject="patient",
        details={"version": 1},
    )
    return patient


def changes_since(patient: Patient, version: int) -> list[dict]:
    """The saves after `version`: who, when and which fields, for the person whose edit lost."""
    entries = (
        AuditEntry.objects.filter(
            patient=patient,
            action=AuditAction.CHANGE,
            subject="patient",
            details__version__gt=version,
        )
        .select_related("user")
        .order_by("at")
    )
    return [{"user": e.user, "at": e.at, "fields": e.details.get("fields", {})} for e in entries]


# Not durable: its writes are all rows, which may ride on a caller's transaction.
@transaction.atomic
def update_patient(*, patient_id: int, version: int, data: dict, by: Actor) -> Patient:
    # Lock the row: two saves of the same version can't both pass the check below.
    patient = locked(Patient.objects).get(pk=patient_id)
    if patient.version != version:
        raise StaleRecord(changes_since(patient, version))
    before = {name: getattr(patient, name) for name in data}
    before.update({name: getattr(patient, name) for name in CONSENTS})
    for name, value in data.items():
        setattr(patient, name, value)
    changed = _diff(before, data)
    if not changed:
        return patient
    _stamp_consents(patient, before)
    patient.version += 1
    patient.updated_at = timezone.now()
    patient.save()
    audit.record(
        actor=by,
        patient=patient,
        action=AuditAction.CHANGE,
        subject="patient",
        details={"version": patient.version, "fields": changed},
    )
    return patient


# Not durable: seed_demo records the demo screenings inside its one transaction.
@transaction.atomic
def record_screening(*, patient: Patient, answers: dict[str, tuple[str, str]], by: Actor) -> int:
    """Save screening answers {question: (answer, note)}; keep every earlier answer. Returns how
    many answers changed."""
    unknown = set(answers) - set(BY_KEY)
    if unknown:
        raise PatientError(_("Unknown screening question."))
    # Lock the patient, not its answers: a question answered for the first time has no row
    # to lock, and two changes at once must each record the answer they replace.
    locked(Patient.objects.only("pk")).get(pk=patient.pk)
    current = {a.question: a for a in ScreeningAnswer.objects.filter(patient=patient)}
    now = timezone.now()
    changed = {}
    for key, (answer, note) in answers.items():
        if answer not in Answer.values:
            raise PatientError(_("An answer must be yes, no or unknown."))
        row = current.get(key)
        if row and row.answer == answer and row.note == note:
            continue
        if row is None and answer == Answer.UNKNOWN and not note:
            continue
        ScreeningChange.objects.create(
            patient=patient,
            question=key,
            old_answer=row.answer if row else "",
            old_note=row.note if row else "",
            new_answer=answer,
            new_note=note,
            changed_at=now,
            changed_by=by.user,
        )
        ScreeningAnswer.objects.update_or_create(
            patient=patient,
            question=key,
            defaults={"answer": answer, "note": note, "recorded_at": now, "recorded_by": by.user},
        )
        changed[key] = [row.answer if row else "", answer]
    if by.role == Role.DOCTOR:
        # A doctor's answers are the review of what the patient said (patients.patient_answers).
        ScreeningAnswer.objects.filter(patient=patient, question__in=answers).update(
            from_patient=False, patient_answer="", patient_answered_at=None
        )
    if changed:
        audit.record(
            actor=by,
            patient=patient,
            action=AuditAction.CHANGE,
            subject="screening",
            details={"answers": changed},
        )
    return len(changed)


@transaction.atomic
def confirm_screening(*, patient: Patient, answers: dict[str, tuple[str, str]], by: Actor) -> int:
    """The screening gone through with the patient again (a re-screen at check-in): the
    answers as they are now, changed ones recorded as record_screening does, and every answer
    confirmed as of now. Returns how many answers changed."""
    changed = record_screening(patient=patient, answers=answers, by=by)
    user = by.user if getattr(by.user, "is_authenticated", False) else None
    Patient.objects.filter(pk=patient.pk).update(
        screening_confirmed_at=timezone.now(), screening_confirmed_by=user
    )
    audit.record(
        actor=by,
        patient=patient,
        action=AuditAction.CHANGE,
        subject="screening",
        details={"confirmed": True, "changed": changed},
    )
    return changed


def move_own_rows(*, keep: Patient, duplicate: Patient) -> dict[str, int]:
    """This app's part of a merge (see merging.py): screening answers and portal invitations
    follow the kept record. The audit trail stays where it happened; the merge entry links both."""
    # One answer per question: the kept record's answer wins where both have one.
    kept_questions = ScreeningAnswer.objects.filter(patient=keep).values("question")
    ScreeningAnswer.objects.filter(patient=duplicate, question__in=kept_questions).delete()
    return {
        model._meta.label: model.objects.filter(patient=duplicate).update(patient=keep)
        for model in (ScreeningAnswer, PortalInvitation)
    }


# Durable: its row locks must be its transaction's first, taken in id order (see below).
@transaction.atomic(durable=True)
def merge_patients(*, keep_id: int, duplicate_id: int, reason: str, by: Actor) -> Patient:
    if by.role != Role.DOCTOR:
        raise PatientError(_("Only a doctor can merge records."))
    return merge_records(keep_id=keep_id, duplicate_id=duplicate_id, reason=reason, by=by)


def merge_records(*, keep_id: int, duplicate_id: int, reason: str, by: Actor) -> Patient:
    """The merge itself, inside the caller's transaction, for a caller that has settled who
    may merge: a doctor (merge_patients), or the front desk joining the record an online
    booking made into the existing one (scheduling's online requests). The two rows are
    locked here in id order; a caller that locks other rows first locks these two before them
    (in id order too), as a merge would, so that the two never wait on each other."""
    if keep_id == duplicate_id:
        raise PatientError(_("Choose two different records."))
    if not reason.strip():
        raise PatientError(_("Say why these records are the same person."))
    # Lock both rows in id order so two merges of the same pair can't deadlock.
    rows = {
        p.pk: p
        for p in locked(Patient.objects).filter(pk__in=[keep_id, duplicate_id]).order_by("pk")
    }
    keep, duplicate = rows.get(keep_id), rows.get(duplicate_id)
    if keep is None or duplicate is None:
        raise PatientError(_("One of the records no longer exists."))
    if keep.merged_into_id or duplicate.merged_into_id:
        raise PatientError(_("One of the records has already been merged."))
    moved = merging.move_all(keep=keep, duplicate=duplicate)
    if duplicate.portal_user_id and not keep.portal_user_id:
        keep.portal_user, duplicate.portal_user = duplicate.portal_user, None
        duplicate.save(update_fields=["portal_user"])
        keep.save(update_fields=["portal_user"])
    duplicate.merged_into = keep
    duplicate.version += 1
    duplicate.save(update_fields=["merged_into", "version"])
    details = {"kept": keep.pk, "merged": duplicate.pk, "reason": reason.strip(), "moved": moved}
    for patient in (keep, duplicate):
        audit.record(
            actor=by, patient=patient, action=AuditAction.MERGE, subject="patient", details=details
        )
    return keep


def _token_hash(token: str) -> str:
    return tokens.digest(token)


def invite_to_portal(
    *, patient: Patient, by: Actor, link_for, form_token: uuid.UUID | None = None
) -> PortalInvitation:
    """Email the patient a one-time link to open their portal account. `link_for(token)` makes
    the absolute URL (the view knows the host). A second post of the same page's button raises
    AlreadySaved and sends nothing."""
    _once(PortalInvitation, form_token)
    if patient.portal_user_id:
        raise PatientError(_("This patient already has a portal account."))
    if not patient.email:
        raise PatientError(_("Add the patient's email address first."))
    token = secrets.token_urlsafe(32)
    try:
        invitation = _save_invitation(patient=patient, token=token, by=by, form_token=form_token)
    except IntegrityError as error:
        # The other of two racing posts of the same button committed first and sends the mail.
        saved = PortalInvitation.objects.filter(form_token=form_token).first()
        raise AlreadySaved(saved) from error
    context = {
        "patient": patient,
        "username": portal_username(patient.email),
        "link": link_for(token),
        "days": settings.PORTAL_INVITATION_DAYS,
        "clinic_name": settings.CLINIC_NAME,
    }
    with translation.override(patient.language):  # the staff's page may be in English
        subject = _("Your %(clinic)s patient page") % {"clinic": settings.CLINIC_NAME}
        text = render_to_string("patients/email/invitation.txt", context)
        html = render_to_string("patients/email/invitation.html", context)
    try:
        send_mail(
            subject=subject,
            message=text,
            html_message=html,
            from_email=None,
            recipient_list=[patient.email],
        )
    except (smtplib.SMTPException, OSError) as error:  # OSError: refused, unreachable, timeout
        # Nobody got the link: the invitation must not show as sent, and the page says so.
        PortalInvitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now())
        raise PatientError(
            _(
                "The invitation email could not be sent: the mail server did not answer. "
                "Nothing was sent; try again in a few minutes."
            )
        ) from error
    return invitation


def portal_username(email: str) -> str:
    """The login name a portal account opened from an invitation to `email` gets: the
    invitation and the welcome page tell the patient what it is."""
    return email.lower()


def _save_invitation(*, patient: Patient, token: str, by: Actor, form_token) -> PortalInvitation:
    # Durable: the mail leaves only once the invitation it links to is committed.
    with transaction.atomic(durable=True):
        # An earlier link stops working when a new one is sent.
        PortalInvitation.objects.filter(patient=patient, accepted_at__isnull=True).update(
            expires_at=timezone.now()
        )
        invitation = PortalInvitation.objects.create(
            patient=patient,
            email=patient.email,
            token_hash=_token_hash(token),
            sent_by=by.user,
            expires_at=timezone.now() + timedelta(days=settings.PORTAL_INVITATION_DAYS),
            form_token=form_token,
        )
        audit.record(
            actor=by,
            patient=patient,
            action=AuditAction.INVITE,
            subject="portal",
            details={"email": patient.email},
        )
    return invitation


def usable_invitation(token: str) -> PortalInvitation | None:
    invitation = (
        PortalInvitation.objects.select_related("patient")
        .filter(token_hash=_token_hash(token))
        .first()
    )
    if invitation is None or not invitation.is_usable():
        return None
    return invitation


# Durable: the open_account view signs the new account in, so it must be committed.
@transaction.atomic(durable=True)
def accept_invitation(*, token: str, password: str, ip: str | None) -> object:
    """Open the patient's portal account with the chosen password; the link then stops working."""
    # Lock the link: a second submit of the form waits, then finds it used.
    invitation = locked(PortalInvitation.objects).filter(token_hash=_token_hash(token)).first()
    if invitation is None or not invitation.is_usable():
        raise PatientError(_("This link has expired or has already been used."))
    # Lock the patient: two links sent at once both stay usable; one account per patient.
    patient = locked(Patient.objects).get(pk=invitation.patient_id)
    if patient.portal_user_id:
        raise PatientError(_("This patient already has a portal account."))
    User = get_user_model()
    username = portal_username(invitation.email)
    if User.objects.filter(username__iexact=username).exists():
        raise PatientError(_("An account with this email already exists. Please call the clinic."))
    user = User.objects.create_user(
        username=username,
        email=invitation.email,
        password=password,
        first_name=patient.preferred_name or patient.legal_first_name,
        last_name=patient.legal_last_name,
    )
    user.groups.add(group_for(Role.PATIENT))
    patient.portal_user = user
    patient.save(update_fields=["portal_user"])
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    audit.record(
        actor=Actor(user=user, role=Role.PATIENT, ip=ip),
        patient=patient,
        action=AuditAction.CREATE,
        subject="portal account",
    )
    return user


def export_patient(*, patient: Patient, by: Actor, file_format: str = "json") -> RecordFile:
    """The patient's whole record as a file (record_export, every app's sections), for the
    patient's right of access; one audit entry says who took it and in which format."""
    record = build_record(patient)
    if by.role == Role.PATIENT:
        # The staff's network addresses say nothing about the patient's data, and much about
        # the clinic's network: the patient's own copy leaves them out.
        for entry in record.get("audit_trail") or []:
            entry.pop("from_address", None)
    made = record_files.render(record, file_format)
    audit.record(
        actor=by,
        patient=patient,
        action=AuditAction.EXPORT,
        subject=f"record ({file_format})",
        details={"format": file_format, "file": made.name},
    )
    return made
