"""The words of the active patients' names (patients migration 0010), which the typo-forgiving
search matches first: PostgreSQL triggers keep them whatever writes the patients, so these
tests commit (the triggers run in the writer's transaction, and two writers meet on a word)."""

from collections import Counter

import pytest
from django.db import connection

from goodskin.actors import Actor
from goodskin.roles import Role
from patients import services
from patients.models import NameWord, Patient
from patients.selectors import NameWords, similar_names
from tests.concurrency import contend
from tests.factories import PatientFactory

committing = pytest.mark.django_db(transaction=True)


def counted() -> dict[str, int]:
    return dict(NameWord.objects.values_list("word", "patients"))


def recounted() -> dict[str, int]:
    """The words counted from scratch, as the migration first counts them."""
    words = Counter()
    for name in Patient.objects.active().values_list("search_name", flat=True):
        words.update(set(name.split()))
    return dict(words)


@committing
def test_it_counts_each_word_of_the_active_patients_names(doctor):
    by = Actor(user=doctor, role=Role.DOCTOR, ip="127.0.0.1")
    ann = PatientFactory(legal_first_name="Ann Ann", legal_last_name="Smith")
    PatientFactory(legal_first_name="Zoë", legal_last_name="Smith", preferred_name="Zo")
    Patient.objects.bulk_create(
        Patient(
            legal_first_name="Bea",
            legal_last_name="Nguyen",
            date_of_birth="1970-01-01",
            search_name="bea nguyen",
        )
        for _ in range(2)
    )
    assert counted() == {"ann": 1, "smith": 2, "zoe": 1, "zo": 1, "bea": 2, "nguyen": 2}

    services.update_patient(
        patient_id=ann.pk, version=ann.version, data={"legal_last_name": "Smyth"}, by=by
    )
    nguyen = Patient.objects.filter(legal_last_name="Nguyen")
    services.merge_patients(
        keep_id=nguyen[0].pk, duplicate_id=nguyen[1].pk, reason="Typed twice", by=by
    )
    PatientFactory(legal_first_name="Cy", legal_last_name="Zed").delete()
    assert (
        counted()
        == recounted()
        == {"ann": 1, "smyth": 1, "smith": 1, "zoe": 1, "zo": 1, "bea": 1, "nguyen": 1}
    )


@committing
def test_a_word_removed_while_another_patient_gets_it_is_kept():
    # The count's upsert: a patient registered while the last one with the word is deleted
    # waits for the delete and writes the word again, instead of counting on a row that goes.
    only = PatientFactory(legal_first_name="Ann", legal_last_name="Quist")

    holder, contender, waited = contend(
        lambda: Patient.objects.filter(pk=only.pk).delete(),
        lambda: PatientFactory(legal_first_name="Bo", legal_last_name="Quist"),
    )
    assert isinstance(contender, Patient), contender
    assert waited
    assert counted() == recounted() == {"bo": 1, "quist": 1}
    assert [p.pk for p in similar_names("Quisst")] == [contender.pk]


def test_a_count_written_around_the_triggers_does_not_hide_a_patient(db):
    # The one-word search reads only the closest words' patients, as many as the counts say;
    # a count too high (a bulk write with the triggers off) must not cut the list short.
    patients = [
        PatientFactory(legal_first_name=f"P{n}", legal_last_name="Anderson") for n in (1, 2)
    ]
    PatientFactory(legal_first_name="Al", legal_last_name="Andersen")
    NameWord.objects.filter(word="anderson").update(patients=99)
    found = similar_names("Andersson", limit=3)
    assert [p.legal_last_name for p in found] == ["Anderson", "Anderson", "Andersen"]
    assert {p.pk for p in found[:2]} == {p.pk for p in patients}


def test_the_closest_words_patients_come_first_then_by_name(db):
    PatientFactory(legal_first_name="Zed", legal_last_name="Anderson")
    PatientFactory(legal_first_name="Al", legal_last_name="Andersen")
    PatientFactory(legal_first_name="Bo", legal_last_name="Anderson")
    names = [(p.legal_first_name, p.legal_last_name) for p in similar_names("Andersson")]
    assert names == [("Bo", "Anderson"), ("Zed", "Anderson"), ("Al", "Andersen")]


def test_the_typo_search_reads_the_words_index_then_the_patients_words_index(db):
    # Thousands of names, as in a clinic: on a table of ten rows any plan is as good.
    Patient.objects.bulk_create(
        Patient(
            legal_first_name=f"Ann{n}",
            legal_last_name=f"Smith{n}",
            date_of_birth="1970-01-01",
            search_name=f"ann{n} smith{n}",
        )
        for n in range(3000)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE patients_nameword")
        cursor.execute("ANALYZE patients_patient")
        # As the search sets them for its read of the words (selectors._close_words).
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL pg_trgm.word_similarity_threshold = 0.5")
        cursor.execute("EXPLAIN SELECT word FROM patients_nameword WHERE word %> 'smiht12'")
        words = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("RESET enable_seqscan")
        query = Patient.objects.alias(name_words=NameWords()).filter(
            name_words__overlap=["smith12", "smith120"]
        )
        sql, params = query.query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        patients = "\n".join(row[0] for row in cursor.fetchall())
    assert "patients_nameword_trgm" in words
    assert "patient_search_words" in patients


@committing
def test_a_registration_goes_into_the_name_indexes_at_once_not_into_a_pending_list():
    """GIN's pending list is read whole by every search until a VACUUM (migration 0012):
    the name search's indexes keep none, so a search costs the same after many registrations."""
    PatientFactory.create_batch(5)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reloptions FROM pg_class WHERE relname = ANY(%s) ORDER BY relname",
            [["patient_search_name_trgm", "patient_search_words", "patients_nameword_trgm"]],
        )
        options = cursor.fetchall()
        cursor.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_am a ON a.oid = c.relam "
            "WHERE a.amname = 'gin' AND c.relname LIKE 'patient%%' "
            "AND NOT coalesce(c.reloptions, '{}') @> '{fastupdate=off}'"
        )
        with_list = cursor.fetchone()[0]
    assert options == [
        ("patient_search_name_trgm", ["fastupdate=off"]),
        ("patient_search_words", ["fastupdate=off"]),
        ("patients_nameword_trgm", ["fastupdate=off"]),
    ]
    assert with_list == 0  # no other GIN index of the patients' tables keeps one
