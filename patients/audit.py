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
