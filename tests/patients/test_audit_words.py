"""The audit trail in the patient's record says each subject in words, in the reader's
language (issue 16, point 2): every subject the code writes has words."""

import re
from pathlib import Path

import pytest
from django.utils import translation

from patients import audit_words

ROOT = Path(__file__).resolve().parents[2]
APPS = ("patients", "scheduling", "treatments", "messaging", "portal", "goodskin")
# Subjects of entries about no patient (the day and week views, the audit's own check of the
# chain): they never reach a patient's record.
NO_PATIENT = ("day view", "week view", "my day")


def subjects_in_the_code() -> set[str]:
    found = set()
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            text = path.read_text()
            for match in re.finditer(r"subject=f?(\"[^\"]*\"|'[^']*')", text):
                literal = re.sub(r"\{[^}]*\}", "1", match[1][1:-1])
                found.add(literal)
    return {s for s in found if not s.startswith(NO_PATIENT) and s.strip()}


def test_every_subject_the_code_writes_has_words():
    # Message subjects share the keyword: only the audit's tokens are lower-case words.
    tokens = {
        s for s in subjects_in_the_code() if re.fullmatch(r"[a-z -]+(:1)?( [a-z]+| \(1\))?", s)
    }
    assert len(tokens) > 30
    missing = sorted(s for s in tokens if audit_words.key(s) not in audit_words.SUBJECT_WORDS)
    assert missing == []


@pytest.mark.parametrize(
    "subject, english, spanish",
    [
        ("screening", "health questions", "preguntas de salud"),
        ("plan:12", "treatment plan no. 12", "plan de tratamiento n.º 12"),
        ("plan:12 series", "booking of the treatment sessions no. 12", None),
        ("record (pdf)", "copy of the record", "copia del expediente"),
        ("something new", "something new", "something new"),
    ],
)
def test_a_subject_is_said_in_words_in_the_readers_language(subject, english, spanish):
    with translation.override("en"):
        assert audit_words.words(subject) == english
    if spanish:
        with translation.override("es"):
            assert audit_words.words(subject) == spanish
