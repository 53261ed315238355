"""The one way a view reaches a patient's record: checks the role, then the object, and audits
the read. Anyone who may not see the record gets 404, so ids reveal nothing."""

from typing import NamedTuple

from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404

from goodskin.actors import Actor
from goodskin.roles import STAFF_ROLES, Role, role_of

from . import audit, selectors
from .models import AuditAction, Patient

# The query as typed is kept in the audit entry, up to this many characters.
QUERY_KEPT = 100


def get_patient_for_user(
    request: HttpRequest,
    pk: int,
    *,
    roles: tuple[Role, ...] = STAFF_ROLES,
    subject: str = "patient",
) -> Patient:
    """A patient record for front desk and doctors (or `roles`); 404 for everyone else."""
    if role_of(request.user) not in roles:
        raise Http404
    patient = get_object_or_404(Patient, pk=pk)
    audit.record(
        actor=Actor.from_request(request), patient=patient, action=AuditAction.VIEW, subject=subject
    )
    return patient


def get_own_patient_or_none(request: HttpRequest, *, subject: str = "patient") -> Patient | None:
    """The signed-in patient's own record, or None while their account is linked to none (the
    portal's home says so rather than 404); 404 for anyone who is not a patient."""
    if role_of(request.user) != Role.PATIENT:
        raise Http404
    patient = Patient.objects.active().filter(portal_user=request.user).first()
    if patient is not None:
        audit.record(
            actor=Actor.from_request(request),
            patient=patient,
            action=AuditAction.VIEW,
            subject=subject,
        )
    return patient


def get_own_patient(request: HttpRequest, *, subject: str = "patient") -> Patient:
    """The signed-in patient's own record, for the portal; 404 for anyone else."""
    patient = get_own_patient_or_none(request, subject=subject)
    if patient is None:
        raise Http404
    return patient


class Found(NamedTuple):
    patients: list[Patient]
    # More matched than were shown.
    more: bool
    # No name contains the query: these names are close to it (a typo, perhaps).
    close: bool


def search_patients_for_user(
    request: HttpRequest,
    query: str,
    *,
    limit: int = selectors.SEARCH_LIMIT,
    subject: str = "patient search",
) -> tuple[list[Patient], bool]:
    """find_patients_for_user's patients shown, and whether more matched."""
    found = find_patients_for_user(request, query, limit=limit, subject=subject)
    return found.patients, found.more


def find_patients_for_user(
    request: HttpRequest,
    query: str,
    *,
    limit: int = selectors.SEARCH_LIMIT,
    subject: str = "patient search",
) -> Found:
    """Patients matching `query` for front desk and doctors: at most `limit` of them; when no
    name contains it, the names close to it. Each one shown (name, birth date, phone) is
    audited with the query that found it; a search that finds no one is audited too. 404 for
    everyone else."""
    if role_of(request.user) not in STAFF_ROLES:
        raise Http404
    found = list(selectors.search_patients(query, limit=limit + 1))
    close = not found
    if close:  # no name contains it: perhaps a typo
        found = selectors.similar_names(query, limit=limit + 1)
    shown = found[:limit]
    details = {"query": query[:QUERY_KEPT]}
    if close and found:
        details["close"] = True
    entries = [(patient, subject, details) for patient in shown] or [
        (None, subject, {**details, "found": 0})
    ]
    audit.record_many(actor=Actor.from_request(request), action=AuditAction.SEARCH, entries=entries)
    return Found(shown, len(found) > limit, close and bool(found))
