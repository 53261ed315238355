"""Reads that several pages share: search, possible duplicates, the screening summary."""

import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from difflib import SequenceMatcher

import phonenumbers
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import connection, transaction
from django.db.models import (
    Case,
    F,
    FloatField,
    Func,
    Q,
    QuerySet,
    TextField,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Lower

from .models import ListedWord, NameWord, Patient, ScreeningAnswer, fold
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


# How many name words contain each part, and how many active patients have them: one read of
# the small word table that says which way to read the names, before any name is read. Then
# the planner's count of patients (row -1), for the share of them each part holds.
PART_COUNTS = f"""
    SELECT %s, count(*), coalesce(sum(patients), 0)
    FROM {NameWord._meta.db_table} WHERE word LIKE %s
"""
ALL_PATIENTS = f"""
    SELECT -1, 0, reltuples::bigint FROM pg_class
    WHERE oid = '{Patient._meta.db_table}'::regclass
"""
# What starting one word's list costs, in names read through the trigram index and sorted
# (100,000 patients: 97 lists begun in 1 ms, 11,000 names read and sorted in 29 ms).
WORD_START = 5


# A listed name matches when it holds the other parts and this word is its first word holding
# the lead part (so a name with two such words is read once): params others, part.
LISTED_MATCH = """
    e.search_name LIKE ALL (%s::text[]) AND strpos(left(' ' || e.search_name || ' ',
        strpos(' ' || e.search_name || ' ', ' ' || e.word || ' ')), %s) < 1
"""
LISTED_ORDER = "e.last_key, e.first_key, e.patient_id"
# The first names in list order among the lists of the words holding the lead part: each
# word's list read up to the bound, the n-th match of two of the lists (the commonest word's,
# the first word's in the alphabet), past which no name can be among the first n; without a
# bound (fewer matches), each list up to n. Params: pattern, (others, part, n - 1), (others,
# part, n), (others, part, n), n.
LISTED_FIRST = f"""
WITH part_words AS MATERIALIZED (
    SELECT word, patients FROM {NameWord._meta.db_table} WHERE word LIKE %s
), bound AS MATERIALIZED (
    SELECT listed.* FROM (
        (SELECT word FROM part_words ORDER BY patients DESC, word LIMIT 1)
        UNION SELECT min(word) FROM part_words
    ) AS probe, LATERAL (
        SELECT {LISTED_ORDER} FROM {ListedWord._meta.db_table} e
        WHERE e.word = probe.word AND {LISTED_MATCH}
        ORDER BY {LISTED_ORDER} OFFSET %s LIMIT 1
    ) AS listed
    ORDER BY 1, 2, 3 LIMIT 1
)
SELECT patient_id FROM (
    SELECT listed.* FROM part_words AS w, LATERAL (
        SELECT {LISTED_ORDER} FROM {ListedWord._meta.db_table} e
        WHERE e.word = w.word AND ({LISTED_ORDER}) <= (SELECT * FROM bound) AND {LISTED_MATCH}
        ORDER BY {LISTED_ORDER} LIMIT %s
    ) AS listed
    UNION ALL
    SELECT listed.* FROM part_words AS w, LATERAL (
        SELECT {LISTED_ORDER} FROM {ListedWord._meta.db_table} e
        WHERE e.word = w.word AND {LISTED_MATCH}
        ORDER BY {LISTED_ORDER} LIMIT %s
    ) AS listed
    WHERE NOT EXISTS (SELECT 1 FROM bound)
) AS found ORDER BY last_key, first_key, patient_id LIMIT %s
"""


def search_patients(query: str, *, limit: int = SEARCH_LIMIT) -> QuerySet[Patient]:
    """At most `limit` patients matching one search box: a date of birth, a phone, an email or
    name parts. (The callers ask for one more than they show, to tell that more matched.)"""
    query = (query or "").strip()
    patients = Patient.objects.active().only(*LIST_FIELDS)
    if not query:
        return patients.none()
    if "@" in query:
        return patients.filter(email__icontains=query.lower())[:limit]
    if dob := parse_date(query):
        return patients.filter(date_of_birth=dob)[:limit]
    if phone := parse_phone(query):
        return patients.filter(phone=phone)[:limit]
    parts = fold(query).split()
    by_name = (Lower("legal_last_name"), Lower("legal_first_name"), "id")
    if connection.vendor == "postgresql":
        listed = _listed_first(parts, limit)
        if listed is not None:
            return listed.order_by(*by_name)[:limit]
    # Every part of the name, in any order; served by the trigram index on search_name. Sorting
    # on lower() keeps the planner off the name index, which would walk the whole alphabet
    # filtering row by row (measured: 28 ms vs 8 ms at 100,000 patients).
    condition = Q()
    for part in parts:
        condition &= Q(search_name__contains=part)
    return patients.filter(condition).order_by(*by_name)[:limit]


def _part_counts(parts: list[str]) -> tuple[list[tuple[int, int]], int]:
    """(words holding it, patients having those words) for each part, from the word counts;
    and about how many patients there are."""
    counts, everyone = [(0, 0)] * len(parts), 0
    sql = " UNION ALL ".join([PART_COUNTS] * len(parts) + [ALL_PATIENTS])
    with connection.cursor() as cursor:
        cursor.execute(sql, [value for n, part in enumerate(parts) for value in (n, _like(part))])
        for n, words, patients in cursor.fetchall():
            if n < 0:
                everyone = patients
            else:
                counts[n] = (words, patients)
    return counts, max([everyone, 1] + [held for _words, held in counts])


def _lead_part(
    parts: list[str], counts: list[tuple[int, int]], everyone: int, limit: int
) -> int | None:
    """The part whose words' lists are read, or None when the trigram index reads fewer names:
    it reads every name holding the parts of three letters or more (the others have no
    trigram) and sorts them; the lists stop at the `limit`-th match. Parts taken as
    independent."""
    share = [min(held / everyone, 1.0) for _words, held in counts]
    by_trigram = everyone * math.prod(
        s for part, s in zip(parts, share, strict=True) if len(part) >= 3
    )
    lead = min(range(len(parts)), key=lambda n: counts[n][1])
    words, held = counts[lead]
    others = math.prod(s for n, s in enumerate(share) if n != lead)
    listed = min(held, limit / others) + WORD_START * words
    if sum(len(part) >= 3 for part in parts) > 1:
        # Two such parts may never meet ("garc okaf": two surnames), and the lists are then
        # read to the end, where the trigram index intersects the two at once.
        listed = held + WORD_START * words
    return lead if listed < by_trigram else None


def _like(part: str) -> str:
    return f"%{connection.ops.prep_for_like_query(part)}%"


def _listed_first(parts: list[str], limit: int) -> QuerySet[Patient] | None:
    """The patients of a common name read in list order from the listed words (PostgreSQL), no
    one when a part is in no name word (a typo: found missing before any name is read), or
    None when the names' trigram index serves the parts better (all of them rare)."""
    if not parts:  # nothing left once folded ("¸"): every name, as the trigram path reads them
        return None
    counts, everyone = _part_counts(parts)
    patients = Patient.objects.active().only(*LIST_FIELDS)
    if any(held == 0 for _words, held in counts):
        return patients.none()
    # The rarest part leads: its words' lists are read, each name checked for the others.
    lead = _lead_part(parts, counts, everyone, limit)
    if lead is None:
        return None
    others = [_like(part) for n, part in enumerate(parts) if n != lead]
    params = [_like(parts[lead]), others, parts[lead], limit - 1]
    params += [others, parts[lead], limit] * 2 + [limit]
    return patients.filter(pk__in=RawSQL(LISTED_FIRST, params))


# Parts of a name shorter than this must be found as they are: a trigram of two letters
# matches too much to mean a typo.
SHORTEST_FORGIVEN = 3


# How like a word of the name each part must be (pg_trgm's word similarity, 0 to 1): "Kathrine"
# is 0.58 like "Katherine", "Andersen" 0.67 like "Anderson". pg_trgm's default is 0.6.
WORD_LIKENESS = 0.5


# The words close to one part of a query: word_similarity(part, word) at least the threshold
# (a %> b), served by the words' trigram index (migration 0010).
CLOSE_WORDS = f"""
    SELECT %s, word, word_similarity(%s, word), patients
    FROM {NameWord._meta.db_table} WHERE word %%> %s
"""

# (word, how like the part it is, how many active patients have it)
Close = tuple[str, float, int]


class NameWords(Func):
    """The words of the folded name, as the index of migration 0010 holds them."""

    function = "string_to_array"
    output_field = ArrayField(TextField())

    def __init__(self):
        super().__init__(F("search_name"), Value(" "))


def _close_words(parts: list[str]) -> list[list[Close]]:
    """The words close to each part, closest first, in one read (one index scan a part)."""
    close: list[list[Close]] = [[] for _ in parts]
    sql = " UNION ALL ".join([CLOSE_WORDS] * len(parts))
    with transaction.atomic(), connection.cursor() as cursor:
        # For this read alone: the threshold of %>, and the words' index even where the planner
        # would read a small table whole (it prices a trigram comparison like an equality; the
        # index is ten times quicker at 3,000 words).
        cursor.execute(
            "SELECT set_config('pg_trgm.word_similarity_threshold', %s, true), "
            "set_config('enable_seqscan', 'off', true)",
            [str(WORD_LIKENESS)],
        )
        cursor.execute(sql, [value for n, part in enumerate(parts) for value in (n, part, part)])
        for n, word, likeness, patients in cursor.fetchall():
            close[n].append((word, likeness, patients))
    for words in close:
        words.sort(key=lambda row: (-row[1], row[0]))
    return close


def _enough_words(close: list[Close], limit: int) -> list[Close]:
    """The closest words that hold `limit` patients between them, and every word as close as
    the last of them: the patients ranked first are among theirs."""
    words, held = [], 0
    for word in close:
        if words and held >= limit and word[1] < words[-1][1]:
            break
        words.append(word)
        held += word[2]
    return words


def _likeness(close: list[Close]) -> Case:
    """How like the part a name is: as like as its closest word."""
    by_likeness: dict[float, list[str]] = {}
    for word, likeness, _patients in close:
        by_likeness.setdefault(likeness, []).append(word)
    return Case(
        *(
            When(name_words__overlap=words, then=Value(likeness))
            for likeness, words in sorted(by_likeness.items(), reverse=True)
        ),
        default=Value(0.0),
        output_field=FloatField(),
    )


def _with_close_words(close: list[list[Close]], short_parts: list[str]) -> QuerySet[Patient]:
    """Patients with a close word for each long part and each short part in their name, the
    closest first: the sum of each part's likeness, then by name. The likeness is read from
    the words, so no name is compared letter by letter here."""
    condition = Q()
    for words in close:
        condition &= Q(name_words__overlap=[word for word, _likeness, _patients in words])
    for part in short_parts:
        condition &= Q(search_name__contains=part)
    score = sum((_likeness(words) for words in close[1:]), _likeness(close[0]))
    by_name = (Lower("legal_last_name"), Lower("legal_first_name"), "id")
    patients = Patient.objects.active().only(*LIST_FIELDS).alias(name_words=NameWords())
    return patients.filter(condition).annotate(closeness=score).order_by("-closeness", *by_name)


# The first names in list order among the lists of the given words, each list read up to the
# n-th name of the probe words' lists (no name past it can be among the first n), or when no
# probe word has n names, each up to n. Params: probe words, n - 1, (words, n) twice, n.
CLOSEST_LISTED = f"""
WITH bound AS MATERIALIZED (
    SELECT listed.* FROM unnest(%s::text[]) AS probe(word), LATERAL (
        SELECT {LISTED_ORDER} FROM {ListedWord._meta.db_table} e WHERE e.word = probe.word
        ORDER BY {LISTED_ORDER} OFFSET %s LIMIT 1
    ) AS listed
    ORDER BY 1, 2, 3 LIMIT 1
)
SELECT patient_id FROM (
    SELECT DISTINCT * FROM (
    SELECT listed.* FROM unnest(%s::text[]) AS w(word), LATERAL (
        SELECT {LISTED_ORDER} FROM {ListedWord._meta.db_table} e
        WHERE e.word = w.word AND ({LISTED_ORDER}) <= (SELECT * FROM bound)
        ORDER BY {LISTED_ORDER} LIMIT %s
    ) AS listed
    UNION ALL
    SELECT listed.* FROM unnest(%s::text[]) AS w(word), LATERAL (
        SELECT {LISTED_ORDER} FROM {ListedWord._meta.db_table} e WHERE e.word = w.word
        ORDER BY {LISTED_ORDER} LIMIT %s
    ) AS listed
    WHERE NOT EXISTS (SELECT 1 FROM bound)
    ) AS listed
) AS found ORDER BY last_key, first_key, patient_id LIMIT %s
"""


def _closest_listed(close: list[Close], limit: int) -> list[Patient] | None:
    """When the closest words alone fill the list, their patients in list order (all are as
    close), read from the listed words: 50 names instead of the 2,000 "anderson" holds in the
    bench. None otherwise, or when fewer came than the counts promised (a count written
    around the triggers)."""
    best = close[0][1]
    closest = [(word, held) for word, likeness, held in close if likeness == best]
    if sum(held for _word, held in closest) < limit:
        return None
    words = [word for word, _held in closest]
    probes = [max(closest, key=lambda row: row[1])[0], min(words)]
    listed = RawSQL(CLOSEST_LISTED, [probes, limit - 1] + [words, limit] * 2 + [limit])
    by_name = (Lower("legal_last_name"), Lower("legal_first_name"), "id")
    patients = Patient.objects.active().only(*LIST_FIELDS).filter(pk__in=listed)
    found = list(patients.order_by(*by_name)[:limit])
    return found if len(found) >= limit else None


def similar_names(query: str, *, limit: int = SEARCH_LIMIT) -> list[Patient]:
    """Patients whose name is close to `query` when none contains it: a typo ("Andersson",
    "Kathrine" find Anderson and Katherine). Each part of the query must be like a word of the
    name: the parts are matched against the distinct name words first (a small table with its
    own trigram index), then the patients with those words are read through an index."""
    query = (query or "").strip()
    if connection.vendor != "postgresql" or not query or is_contact_query(query):
        return []
    parts = fold(query).split()[:4]
    long_parts = [part for part in parts if len(part) >= SHORTEST_FORGIVEN]
    short_parts = [part for part in parts if len(part) < SHORTEST_FORGIVEN]
    if not long_parts:
        return []
    close = _close_words(long_parts)
    if not all(close):
        return []
    if len(parts) == 1:
        if found := _closest_listed(close[0], limit):
            return found
        # One part: only the closest words' patients can rank first, and the counts say how
        # many words that takes (a common name: one word, not the hundred near it).
        enough = _enough_words(close[0], limit)
        found = list(_with_close_words([enough], short_parts)[:limit])
        if len(found) >= limit or len(enough) == len(close[0]):
            return found
        # Fewer than the counts promised (a count written around the triggers): all words.
    return list(_with_close_words(close, short_parts)[:limit])


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
