"""Write audit entries: every read and write of a patient's data, in every app."""

import json

from django.db import connection

from goodskin.actors import Actor
from goodskin.row_versions import prepared_execute

from .models import AuditAction, AuditEntry, Patient

# Many entries by one actor in one INSERT, each varying column sent once as an array
# (PostgreSQL): a search's fifty AuditEntry objects and their values, prepared one by one by
# bulk_create, took 7 ms of CPU (bench/patient_search.py). The chain's trigger numbers and
# hashes each row in the arrays' order, as it does bulk_create's.
MANY = f"""
INSERT INTO {AuditEntry._meta.db_table}
    (at, user_id, role, patient_id, action, subject, ip, details)
SELECT %s, %s, %s, entry.patient_id, %s, entry.subject, %s::inet, entry.details::jsonb
FROM unnest(%s::bigint[], %s::text[], %s::text[]) WITH ORDINALITY
    AS entry(patient_id, subject, details, n)
ORDER BY entry.n
"""


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
    entries = list(entries)
    if not entries:  # as bulk_create: no query for nothing
        return
    if connection.vendor != "postgresql":
        AuditEntry.objects.bulk_create(
            _entry(actor, patient, action, subject, details)
            for patient, subject, details in entries
        )
        return
    # Built as _entry() builds one, each field's own preparation of the values all share.
    shared = _entry(actor, None, action, "", None)
    ip = AuditEntry._meta.get_field("ip").get_prep_value(shared.ip)  # cast to inet in MANY
    written: dict[int, str] = {}  # a search's fifty entries share one details dict
    details = [
        written.get(id(d)) or written.setdefault(id(d), json.dumps(d or {}))
        for _patient, _subject, d in entries
    ]
    patient_ids = [patient.pk if patient is not None else None for patient, _s, _d in entries]
    subjects = [subject for _patient, subject, _details in entries]
    params = [shared.at, shared.user_id, shared.role, action, ip, patient_ids, subjects, details]
    prepared_execute(MANY, params)
