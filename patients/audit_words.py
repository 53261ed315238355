"""Audit subjects in words, for the people who read an audit trail (the patient's record PDF is
in their language): the code writes a subject as a short English token ("screening",
"plan:12", "portal schedule"), kept as it is for machines; this says it in words."""

import re

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

# Every subject the apps write (tests/patients/test_audit_words.py finds each one in the code).
# An app above this one whose subject names its own tables adds its words (register).
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


# --- The details of an entry ------------------------------------------------------------------


def _vocabulary() -> tuple[dict, dict]:
    """{field name: its words} and {stored code: its words}, from the models' own fields and
    choices (read once; the words translate when shown)."""
    from django.apps import apps

    from .screening import BY_KEY, Answer

    names: dict = {key: question.label for key, question in BY_KEY.items()}
    names.update(DETAIL_NAMES)
    codes: dict = {value: label for value, label in Answer.choices}
    for label in ("patients", "treatments", "scheduling", "messaging"):
        for model in apps.get_app_config(label).get_models():
            for field in model._meta.get_fields():
                if getattr(field, "verbose_name", None) and field.name not in names:
                    names[field.name] = field.verbose_name
                for value, words in getattr(field, "flatchoices", None) or ():
                    codes.setdefault(value, words)
    return names, codes


# Keys of details that are no model field.
DETAIL_NAMES = {
    "action": _("what changed"),
    "amendment": _("amendment"),
    "answers": _("answers"),
    "cosignature": _("co-signature"),
    "field": _("part changed"),
    "kind": _("type"),
    "sessions": _("sessions"),
    "signed": _("signed"),
}

_cache: list = []


def register(*, subjects: dict | None = None, details: dict | None = None) -> None:
    """An app's own subjects and detail keys in words (from its AppConfig.ready)."""
    SUBJECT_WORDS.update(subjects or {})
    DETAIL_NAMES.update(details or {})
    _cache.clear()


def _words_for(value, codes: dict) -> str:
    if isinstance(value, bool):
        return str(_("Yes") if value else _("No"))
    if value is None or value == "":
        return "—"
    if isinstance(value, list):
        return " → ".join(_words_for(item, codes) for item in value)
    if isinstance(value, dict):
        return details_words(value)
    return str(codes.get(value, value)) if isinstance(value, str) else str(value)


def details_words(details: dict) -> str:
    """An entry's details in words ("Estrogen: No → Yes; Status: Active"): each key by its
    field's or question's name, each stored code by its choice's words."""
    if not _cache:
        _cache.append(_vocabulary())
    names, codes = _cache[0]
    parts = []
    for key, value in (details or {}).items():
        name = str(names.get(key, key.replace("_", " ")))
        # "field" names another field: said by that field's name.
        said = str(names.get(value, value)) if key == "field" else _words_for(value, codes)
        parts.append(f"{name[:1].upper()}{name[1:]}: {said}")
    return "; ".join(parts)
