"""Audit subjects in words, for the people who read an audit trail (the patient's record PDF is
in their language): the code writes a subject as a short English token ("screening",
"plan:12", "portal schedule"), kept as it is for machines; this says it in words."""

import re

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

# Every subject the apps write (tests/patients/test_audit_words.py finds each one in the code).
SUBJECT_WORDS = {
    "account": _("login account"),
    "adverse event": _("side effect report"),
    "appointment": _("appointment"),
    "audit chain check": _("check of this log"),
    "booking": _("booking"),
    "calendar feed": _("calendar subscription"),
    "chart": _("session notes"),
    "charts to sign": _("session notes to sign"),
    "consultation": _("consultation"),
    "export": _("copy of the record"),
    "free times": _("free times"),
    "free times search": _("search for free times"),
    "merge preview": _("check for a duplicate record"),
    "message": _("message"),
    "messages": _("messages"),
    "online booking request": _("online booking request"),
    "online booking requests": _("online booking requests"),
    "patient": _("personal details"),
    "plan": _("treatment plan"),
    "plan series": _("booking of the treatment sessions"),
    "portal": _("patient portal"),
    "portal account": _("patient portal account"),
    "portal booking": _("booking in the patient portal"),
    "portal schedule": _("schedule in the patient portal"),
    "portal screening": _("health questions in the patient portal"),
    "portal waitlist": _("waitlist in the patient portal"),
    "preferences": _("message preferences"),
    "record": _("copy of the record"),
    "safety check-in": _("safety check-in"),
    "safety check-in warnings": _("safety check-in warnings"),
    "safety check-ins not answered": _("safety check-ins not answered"),
    "screening": _("health questions"),
    "screening history": _("history of the health questions"),
    "treatment plans": _("treatment plans"),
    "treatments": _("treatments"),
    "waitlist": _("waitlist"),
}

NUMBER = re.compile(r":(\d+)")
DETAILS = re.compile(r" \(.*\)$")


def key(subject: str) -> str:
    """The subject without its number and details ("plan:12 series" → "plan series",
    "record (pdf)" → "record"): the key of SUBJECT_WORDS."""
    return DETAILS.sub("", NUMBER.sub("", subject or ""))


def words(subject: str) -> str:
    """The subject in words, in the active language; a number it names is kept ("treatment
    plan no. 12"); an unknown subject is shown as written."""
    label = SUBJECT_WORDS.get(key(subject))
    if label is None:
        return subject
    if number := NUMBER.search(subject):
        return gettext("%(what)s no. %(number)s") % {"what": label, "number": number[1]}
    return str(label)
