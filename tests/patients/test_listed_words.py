"""The listed words (patients migration 0013): each word of each active patient's name with the
patient's place in the list, which a search for a common name reads in list order (issue 19).
PostgreSQL triggers keep them whatever writes the patients; the search must list exactly what
reading every matching name and sorting it lists."""

import pytest
from django.db import connection
from django.db.models.functions import Lower

from goodskin.actors import Actor
from goodskin.roles import Role
from patients import selectors, services
from patients.models import ListedWord, Patient
from tests.factories import PatientFactory

committing = pytest.mark.django_db(transaction=True)


def listed() -> set[tuple]:
    return set(
        ListedWord.objects.values_list("word", "last_key", "first_key", "patient_id", "search_name")
    )


def relisted() -> set[tuple]:
    """The listed words made from scratch, as the migration first makes them."""
    return {
        (word, last.lower(), first.lower(), pk, name)
        for pk, first, last, name in Patient.objects.active().values_list(
            "pk", "legal_first_name", "legal_last_name", "search_name"
        )
        for word in name.split()
    }


def sorted_matches(query: str) -> list[int]:
    """Every name holding every part, sorted: what the list must show, first 51."""
    matches = Patient.objects.active()
    for part in query.split():
        matches = matches.filter(search_name__contains=part)
    by_name = (Lower("legal_last_name"), Lower("legal_first_name"), "id")
    return list(matches.order_by(*by_name).values_list("pk", flat=True)[:51])


@committing
def test_the_triggers_list_every_word_of_the_active_patients_names(doctor):
    by = Actor(user=doctor, role=Role.DOCTOR, ip="127.0.0.1")
    ann = PatientFactory(legal_first_name="Ann Annabel", legal_last_name="Smith")
    Patient.objects.bulk_create(
        Patient(
            legal_first_name="Bea",
            legal_last_name="Nguyen",
            date_of_birth="1970-01-01",
            search_name="bea nguyen",
        )
        for _ in range(2)
    )
    assert listed() == relisted() and len(listed()) == 7

    # A capital or an accent moves a patient in the list without changing the folded name.
    Patient.objects.filter(pk=ann.pk).update(legal_last_name="SMITH")
    nguyen = Patient.objects.filter(legal_last_name="Nguyen")
    services.merge_patients(
        keep_id=nguyen[0].pk, duplicate_id=nguyen[1].pk, reason="Typed twice", by=by
    )
    PatientFactory(legal_first_name="Cy", legal_last_name="Zed").delete()
    assert listed() == relisted()
    assert ("smith", "smith", "ann annabel", ann.pk, "ann annabel smith") in listed()


@pytest.fixture
def common_names(db, monkeypatch):
    """Names sharing words in blocks and across the alphabet, with accents, capitals and a
    name holding a part twice; every part counts as common, so the lists are read."""
    monkeypatch.setattr(selectors, "_lead_part", lambda parts, counts, everyone, limit: 0)
    firsts = ["Ann", "ann annabel", "Zoë", "Bea", "Chloé", "Al"]
    lasts = ["Miller", "miller", "Millerson", "Müller", "Ánderson", "Anderson2", "Kim", "Okafor"]
    Patient.objects.bulk_create(
        Patient(
            legal_first_name=firsts[n % len(firsts)],
            legal_last_name=lasts[n * 7 % len(lasts)],
            date_of_birth="1970-01-01",
            search_name=selectors.fold(f"{firsts[n % len(firsts)]} {lasts[n * 7 % len(lasts)]}"),
        )
        for n in range(240)
    )


@pytest.mark.parametrize(
    "query",
    ["miller", "mill", "ann", "an", "a", "kim", "zoe", "ann miller", "miller ann", "son 2", "2"],
)
def test_a_common_name_lists_the_same_names_in_the_same_order(common_names, query):
    assert [p.pk for p in selectors.search_patients(query)] == sorted_matches(query)[:50]


def test_a_common_name_is_read_in_list_order_from_the_listed_words(common_names):
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE patients_listedword")
        query = selectors.search_patients("miller").query
        sql, params = query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "listed_word_order" in plan
    assert "patient_search_name_trgm" not in plan


def test_a_rare_name_is_read_through_the_trigram_index(db):
    PatientFactory(legal_first_name="Ann", legal_last_name="Quist")
    query = selectors.search_patients("quist").query
    sql, _params = query.sql_with_params()
    assert "patients_listedword" not in sql


def test_a_query_with_nothing_left_once_folded_lists_names_as_before(db):
    # "¸" folds to nothing: no part to count, so every name, sorted, as the search always did.
    patients = [PatientFactory(legal_last_name=name) for name in ("Bo", "Al")]
    assert list(selectors.search_patients("¸")) == sorted(patients, key=lambda p: p.legal_last_name)


@pytest.mark.parametrize("limit", [1, 3, 5])
def test_a_typo_lists_the_closest_words_names_as_reading_them_all_does(db, monkeypatch, limit):
    # "Anderson" in any case is the closest to "Andersson"; "Anderson2" and "Andersen" less.
    for n, (first, last) in enumerate(
        [("Zed", "Anderson"), ("Al", "Anderson2"), ("Bo", "ANDERSON"), ("Cy", "Andersen")] * 3
    ):
        PatientFactory(legal_first_name=f"{first}{n}", legal_last_name=last)
    close = selectors._close_words(["andersson"])[0]
    listed = selectors._closest_listed(close, limit)
    monkeypatch.setattr(selectors, "_closest_listed", lambda close, limit: None)
    read_whole = selectors.similar_names("Andersson", limit=limit)
    assert listed is not None
    assert [p.pk for p in listed] == [p.pk for p in read_whole]
    assert {p.legal_last_name for p in listed} <= {"Anderson", "ANDERSON"}


def test_a_patients_listed_words_are_found_by_the_patient_index(db):
    # The triggers delete a renamed, merged or deleted patient's words by patient.
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN DELETE FROM patients_listedword WHERE patient_id = 1")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "listed_word_patient" in plan
