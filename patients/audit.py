"""Write audit entries: every read and write of a patient's data, in every app."""

from goodskin.actors import Actor

from .models import AuditAction, AuditEntry, Patient


def _entry(
    actor: Actor, patient: Patient | None, action: AuditAction, subject: str, details: dict | None
) -> AuditEntry:
    user = actor.user if getattr(actor.user, "is_authenticated", False) else None
    # By id: a search writes fifty entries, and assigning a row checks its model each time.
    return AuditEntry(
        user_id=user.pk if user is not None else None,
        role=actor.role or "",
        patient_id=patient.pk if patient is not None else None,
        action=action,
        subject=subject,
        ip=actor.ip,
        details=details or {},
    )


def record(
    *,
    actor: Actor,
    patient: Patient | None,
    action: AuditAction,
    subject: str,
    details: dict | None = None,
) -> AuditEntry:
    entry = _entry(actor, patient, action, subject, details)
    entry.save(force_insert=True)
    return entry


def record_shown(*, actor: Actor, patients, subject: str) -> None:
    """A page listed these patients (a list on a home page): one read each, once per patient,
    in one INSERT; nothing for none."""
    unique = {patient.pk: patient for patient in patients}
    if unique:
        record_many(
            actor=actor,
            action=AuditAction.VIEW,
            entries=[(patient, subject, {}) for patient in unique.values()],
        )


def record_many(
    *, actor: Actor, action: AuditAction, entries: list[tuple[Patient | None, str, dict]]
) -> None:
    """Several entries by one actor, (patient, subject, details) each, in one INSERT."""
    AuditEntry.objects.bulk_create(
        _entry(actor, patient, action, subject, details) for patient, subject, details in entries
    )
