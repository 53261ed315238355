"""The patient's record page, kept whole (goodskin.kept) under a fingerprint of every row it is
written from, and written again only when one of them changes (issue 19: written, it took 14 ms
and 12 queries; kept, one query reads whether it is still good).

The rows: the patient; their screening answers and who recorded each; their portal invitations
and the two-step devices of their portal account; the last changes to their details and who
made them. The other apps' notices and panels on the page (patients.notices, record_panels)
each register, with their source, the rows they read: a Part. What moves with the clock rather
than the rows is in the key: the day (the patient's age, today's visit), and each part's
`clock`, the next instant at which what it shows changes (an invitation that expires, a visit
that starts).

A page is written with marks where each request puts its own form token and invitation token:
NUL characters, which no stored text holds (PostgreSQL refuses NUL in text).
"""

import uuid
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django_otp.plugins.otp_totp.models import TOTPDevice

from goodskin import links, two_factor
from goodskin.kept import fingerprint_row, remember
from goodskin.roles import Role, role_of
from goodskin.row_versions import table, versions

from . import notices, record_panels, selectors
from .models import AuditAction, AuditEntry, Patient, PortalInvitation, ScreeningAnswer

# Raise when what the page shows or how it is written changes.
VERSION = 1
# Merging shows both records in full, so only a role that may open patient records merges (the
# clinic administrator may not: the admin shows no patient data, issue 14).
MERGE_ROLES = (Role.DOCTOR,)
RECENT_CHANGES = 5  # the last changes to the patient's details the page lists

# Where each request's own values go.
CSRF_MARK = "\x00csrf\x00"
INVITE_MARK = "\x00invite\x00"


@dataclass(frozen=True)
class Part:
    """What one piece of the record page reads, for its fingerprint. `sql`: SQL of a text that
    changes whenever a row the piece reads changes (goodskin.row_versions.versions), with the
    parameters %(patient)s (the patient's id) and %(now)s. `clock`: SQL of the next instant at
    which what the piece shows changes with the clock alone, or NULL; "" for none."""

    sql: str
    clock: str = ""


_USERS = table(get_user_model())
_PATIENTS = table(Patient)
_INVITATIONS = table(PortalInvitation)
_THEIR_CHANGES = (
    f"patient_id = %(patient)s AND action = '{AuditAction.CHANGE.value}' AND subject = 'patient'"
)
OWN_PARTS = (
    Part(versions(_PATIENTS, "t.id = %(patient)s")),
    Part(
        versions(
            table(ScreeningAnswer), "t.patient_id = %(patient)s", beside=(_USERS, "recorded_by_id")
        )
    ),
    # is_usable(): a link works until the instant it expires.
    Part(
        versions(_INVITATIONS, "t.patient_id = %(patient)s"),
        clock=f"(SELECT min(expires_at) FROM {_INVITATIONS} WHERE patient_id = %(patient)s"
        " AND accepted_at IS NULL AND expires_at > %(now)s)",
    ),
    Part(
        versions(
            table(TOTPDevice),
            f"t.user_id = (SELECT portal_user_id FROM {_PATIENTS} WHERE id = %(patient)s)",
        )
    ),
    # The last changes to their details, with who made each (a change moved here by a merge
    # shows only if it is among them).
    Part(
        versions(
            table(AuditEntry),
            f"t.id IN (SELECT id FROM {table(AuditEntry)} WHERE {_THEIR_CHANGES}"
            f" ORDER BY at DESC, id DESC LIMIT {RECENT_CHANGES})",
            beside=(_USERS, "user_id"),
        )
    ),
)

_parts: list[Part] = []


def register(*parts: Part) -> None:
    """Add what another app's notice or panel reads (notices.register, record_panels.register)."""
    for part in parts:
        if part not in _parts:
            _parts.append(part)


def fingerprint_sql() -> str:
    """The query of the page's fingerprint: its md5, then each part's clock."""
    parts = [*OWN_PARTS, *_parts]
    clocks = "".join(f", {part.clock}" for part in parts if part.clock)
    return f"SELECT md5(concat_ws('|', {', '.join(part.sql for part in parts)})){clocks}"


def fingerprint(patient_id: int, now) -> tuple | None:
    """(md5, clocks...) of the patient's record page; None where kept pages are not used."""
    return fingerprint_row(fingerprint_sql(), {"patient": patient_id, "now": now})


def body(request, patient: Patient) -> SafeString:
    """The record page's content for this request (what goes inside the site's frame)."""
    role, now = role_of(request.user), timezone.now()
    found = fingerprint(patient.pk, now)
    if found is None:
        html = _write(request, patient, role)
    else:
        key = (
            VERSION,
            patient.pk,
            role,
            timezone.get_current_timezone_name(),
            timezone.localdate(now),
            timezone.localdate(now, ZoneInfo(settings.CLINIC_TIME_ZONE)),
            *(instant.isoformat() if instant else "-" for instant in found[1:]),
        )

        def write() -> str:
            # Read again after the fingerprint: what is kept under it is never older than it.
            return _write(request, Patient.objects.get(pk=patient.pk), role)

        html = remember("record-page", found[0], key, write)
    html = html.replace(CSRF_MARK, escape(get_token(request)))
    return mark_safe(html.replace(INVITE_MARK, str(uuid.uuid4())))


def _write(request, patient: Patient, role) -> str:
    context = {
        "patient": patient,
        "screening": selectors.screening_summary(patient),
        "invitation": patient.invitations.first(),
        "two_factor_on": bool(patient.portal_user) and two_factor.enrolled(patient.portal_user),
        "csrf_token": CSRF_MARK,
        # The invitation button's token: a double click sends one invitation.
        "invite_token": INVITE_MARK,
        "can_merge": role in MERGE_ROLES,
        "notices": notices.for_patient(patient),
        "panels": record_panels.for_patient(request, patient),
        "links": links.for_place(links.PATIENT_RECORD, patient=patient, role=role),
        # Who changed the record lately, the patient included (from the portal).
        "recent_changes": patient.audit_entries.filter(
            action=AuditAction.CHANGE, subject="patient"
        ).select_related("user")[:RECENT_CHANGES],
    }
    return render_to_string("patients/_record.html", context, request=request)
