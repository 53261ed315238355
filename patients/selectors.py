"""Reads that several pages share: search, possible duplicates, the screening summary."""

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from difflib import SequenceMatcher

import phonenumbers
from django.conf import settings
from django.contrib.postgres.search import TrigramWordSimilarity
from django.db import connection, transaction
from django.db.models import Q, QuerySet, Value
from django.db.models.functions import Lower

from .models import Patient, ScreeningAnswer, fold
from .screening import BY_KEY, ESTROGEN, FOAM_ONLY, QUESTIONS, UNTREATED_VARICOSE, Answer, Kind

SEARCH_LIMIT = 50
# What a result row shows: enough to tell two people apart.
LIST_FIELDS = (
    "legal_first_name",
    "legal_last_name",
    "preferred_name",
    "date_of_birth",
    "phone",
    "email",
)
DATE_FORMATS = (
    "%Y-%m-%d",
    "%m/%d/%Y",
    "%m-%d-%Y",
    "%m.%d.%Y",
    "%m/%d/%y",
    "%d %B %Y",
    "%B %d %Y",
    "%b %d %Y",
    "%d %b %Y",
)
# Two names this alike (0..1, difflib ratio on folded names) with the same birthday are probably
# the same person typed twice.
NAME_LIKENESS = 0.8


def parse_date(text: str) -> date | None:
    cleaned = text.strip().replace(",", "")
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(cleaned, fmt).date()  # noqa: DTZ007 - a date, no time
        except ValueError:
            continue
    return None


def parse_phone(text: str) -> str | None:
    """E.164 form of a phone typed any common way, or None."""
    if len(re.sub(r"\D", "", text)) < 7:
        return None
    try:
        number = phonenumbers.parse(text, settings.PHONENUMBER_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def search_patients(query: str) -> QuerySet[Patient]:
    """Patients matching one search box: a date of birth, a phone, an email or name parts."""
    query = (query or "").strip()
    patients = Patient.objects.active().only(*LIST_FIELDS)
    if not query:
        return patients.none()
    if "@" in query:
        return patients.filter(email__icontains=query.lower())[:SEARCH_LIMIT]
    if dob := parse_date(query):
        return patients.filter(date_of_birth=dob)[:SEARCH_LIMIT]
    if phone := parse_phone(query):
        return patients.filter(phone=phone)[:SEARCH_LIMIT]
    # Every part of the name, in any order; served by the trigram index on search_name. Sorting
    # on lower() keeps the planner off the name index, which would walk the whole alphabet
    # filtering row by row (measured: 28 ms vs 8 ms at 100,000 patients).
    condition = Q()
    for part in fold(query).split():
        condition &= Q(search_name__contains=part)
    by_name = (Lower("legal_last_name"), Lower("legal_first_name"), "id")
    return patients.filter(condition).order_by(*by_name)[:SEARCH_LIMIT]


# Parts of a name shorter than this must be found as they are: a trigram of two letters
# matches too much to mean a typo.
SHORTEST_FORGIVEN = 3


# How like a word of the name each part must be (pg_trgm's word similarity, 0 to 1): "Kathrine"
# is 0.58 like "Katherine", "Andersen" 0.67 like "Anderson". pg_trgm's default is 0.6.
WORD_LIKENESS = 0.5


def _similar_names_query(query: str) -> QuerySet[Patient] | None:
    """Patients whose name is close to `query`: each part of the query must be like a word of
    the name (served by the trigram index on search_name), closest first; None when there is
    nothing to look for (not a name, no part long enough, or not PostgreSQL)."""
    query = (query or "").strip()
    if connection.vendor != "postgresql" or not query or is_contact_query(query):
        return None
    condition, score = Q(), None
    for part in fold(query).split()[:4]:
        if len(part) < SHORTEST_FORGIVEN:
            condition &= Q(search_name__contains=part)
            continue
        condition &= Q(search_name__trigram_word_similar=part)
        similarity = TrigramWordSimilarity(Value(part), "search_name")
        score = similarity if score is None else score + similarity
    if score is None:
        return None
    by_name = (Lower("legal_last_name"), Lower("legal_first_name"), "id")
    patients = Patient.objects.active().only(*LIST_FIELDS).filter(condition)
    return patients.annotate(closeness=score).order_by("-closeness", *by_name)


def similar_names(query: str, *, limit: int = SEARCH_LIMIT) -> list[Patient]:
    """Patients whose name is close to `query` when none contains it: a typo ("Andersson",
    "Kathrine" find Anderson and Katherine)."""
    rows = _similar_names_query(query)
    if rows is None:
        return []
    rows = rows[:limit]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL pg_trgm.word_similarity_threshold = %s", [WORD_LIKENESS])
        return list(rows)


def is_contact_query(query: str) -> bool:
    """An email, a date of birth or a phone number rather than a name."""
    return "@" in query or bool(parse_date(query)) or bool(parse_phone(query))


def possible_duplicates(
    *,
    first_name: str,
    last_name: str,
    date_of_birth: date | None,
    phone: str,
    email: str,
    exclude_id: int | None = None,
) -> list[Patient]:
    """Records that may be the same person: same birthday and a close name, or same phone or
    email. Shown before a new record is saved."""
    condition = Q()
    if date_of_birth:
        condition |= Q(date_of_birth=date_of_birth)
    if phone:
        condition |= Q(phone=phone)
    if email:
        condition |= Q(email=email.strip().lower())
    if not condition:
        return []
    name = fold(f"{first_name} {last_name}")
    matches = []
    for candidate in Patient.objects.active().filter(condition).exclude(pk=exclude_id)[:50]:
        same_contact = (phone and str(candidate.phone) == str(phone)) or (
            email and candidate.email == email.strip().lower()
        )
        candidate_name = fold(candidate.full_name)
        close_name = SequenceMatcher(None, name, candidate_name).ratio() >= NAME_LIKENESS or (
            SequenceMatcher(
                None, name, fold(f"{candidate.legal_last_name} {candidate.legal_first_name}")
            ).ratio()
            >= NAME_LIKENESS
        )
        if same_contact or (candidate.date_of_birth == date_of_birth and close_name):
            matches.append(candidate)
    return matches


@dataclass
class ScreeningSummary:
    """What matters of the screening, for the banner on every patient and plan page."""

    answers: dict[str, ScreeningAnswer] = field(default_factory=dict)

    def _yes(self, kind: Kind) -> list:
        return [q for q in QUESTIONS if q.kind == kind and self._answer(q.key) == Answer.YES]

    def _answer(self, key: str) -> str:
        answer = self.answers.get(key)
        return answer.answer if answer else Answer.UNKNOWN

    @property
    def absolute(self) -> list:
        return [q for q in self._yes(Kind.ABSOLUTE) if q.key != FOAM_ONLY]

    @property
    def relative(self) -> list:
        return self._yes(Kind.RELATIVE)

    @property
    def foam_blocked(self) -> bool:
        return self._answer(FOAM_ONLY) == Answer.YES

    @property
    def estrogen(self) -> bool:
        return self._answer(ESTROGEN) == Answer.YES

    @property
    def untreated_varicose(self) -> bool:
        return self._answer(UNTREATED_VARICOSE) == Answer.YES

    @property
    def patient_answered(self) -> list:
        """Questions the patient answered in the portal that no doctor has reviewed yet
        (patients.patient_answers): from the rows loaded already, no query."""
        return [
            q
            for q in QUESTIONS
            if (row := self.answers.get(q.key)) and (row.from_patient or row.patient_answer)
        ]

    @property
    def unanswered(self) -> list:
        return [
            q for q in QUESTIONS if q.kind != Kind.HISTORY and self._answer(q.key) == Answer.UNKNOWN
        ]

    @property
    def missing(self) -> list:
        """Questions with no answer at all: a doctor can't decide on treatment with them."""
        return [q for q in QUESTIONS if q.key not in self.answers]

    @property
    def unknown(self) -> list:
        """Questions answered "unknown": the doctor acknowledges each before a plan."""
        return [
            q for q in QUESTIONS if self._answer(q.key) == Answer.UNKNOWN and q.key in self.answers
        ]

    @property
    def to_acknowledge(self) -> list:
        """What the doctor acknowledges at consultation: each relative contraindication answered
        yes, and each question answered "unknown"."""
        return self.relative + [q for q in self.unknown if q not in self.relative]

    @property
    def blocks_plan(self) -> bool:
        """An absolute contraindication: no treatment plan can start."""
        return bool(self.absolute)

    def rows(self) -> list[tuple]:
        """(question, current answer row or None) in checklist order."""
        return [(q, self.answers.get(q.key)) for q in QUESTIONS]


def screening_summary(patient: Patient) -> ScreeningSummary:
    answers = patient.screening.select_related("recorded_by")
    return ScreeningSummary(answers={a.question: a for a in answers})


def question_label(key: str) -> str:
    return str(BY_KEY[key].label)
