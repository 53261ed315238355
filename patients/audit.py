"""Write audit entries: every read and write of a patient's data, in every app."""

from goodskin.actors import Actor

from .models import AuditAction, AuditEntry, Patient


def record(
    *,
    actor: Actor,
    patient: Patient | None,
    action: AuditAction,
    subject: str,
    details: dict | None = None,
) -> AuditEntry:
    user = actor.user if getattr(actor.user, "is_authenticated", False) else None
    return AuditEntry.objects.create(
        user=user,
        role=actor.role or "",
        patient=patient,
        action=action,
        subject=subject,
        ip=actor.ip,
        details=details or {},
    )


def record_many(
    *, actor: Actor, action: AuditAction, entries: list[tuple[Patient | None, str, dict]]
) -> None:
    """Several entries by one actor, (patient, subject, details) each, in one INSERT."""
    user = actor.user if getattr(actor.user, "is_authenticated", False) else None
    AuditEntry.objects.bulk_create(
        AuditEntry(
            user=user,
            role=actor.role or "",
            patient=patient,
            action=action,
            subject=subject,
            ip=actor.ip,
            details=details or {},
        )
        for patient, subject, details in entries
    )
