from datetime import UTC, date

import pytest
from django.urls import reverse

from goodskin.actors import Actor
from goodskin.roles import STAFF_ROLES, Role
from patients.models import AuditEntry, Patient, PortalInvitation, ScreeningAnswer
from patients.services import PatientError, merge_patients
from patients.views import MERGE_ROLES
from tests.factories import PatientFactory, screen
from tests.patients.test_records import VALID


@pytest.fixture
def cathy(db):
    return PatientFactory(
        legal_first_name="Catherine",
        legal_last_name="Anderson",
        date_of_birth=date(1975, 10, 19),
        phone="+15035550109",
        email="cathy@example.org",
    )


@pytest.mark.parametrize(
    "changes",
    [
        {
            "legal_first_name": "Katherine",
            "legal_last_name": "Andersen",
            "date_of_birth": "1975-10-19",
        },
        {
            "legal_first_name": "Anderson",
            "legal_last_name": "Catherine",
            "date_of_birth": "1975-10-19",
        },
        {"phone": "503-555-0109"},
        {"email": "CATHY@example.org"},
    ],
)
def test_it_shows_possible_matches_before_saving(client, front_desk, cathy, changes):
    client.force_login(front_desk)
    response = client.post(reverse("patients:create"), {**VALID, **changes})
    body = response.content.decode()
    assert "This may be a patient we already have" in body
    assert reverse("patients:detail", args=[cathy.pk]) in body
    assert Patient.objects.count() == 1


def test_it_does_not_flag_a_different_person_with_the_same_birthday(client, front_desk, cathy):
    client.force_login(front_desk)
    response = client.post(reverse("patients:create"), {**VALID, "date_of_birth": "1975-10-19"})
    assert response.status_code == 302
    assert Patient.objects.count() == 2


def test_it_creates_anyway_when_staff_say_so(client, front_desk, cathy):
    client.force_login(front_desk)
    client.post(
        reverse("patients:create"), {**VALID, "phone": "503-555-0109", "create_anyway": "1"}
    )
    assert Patient.objects.count() == 2


def test_it_merges_a_duplicate_and_moves_everything_that_pointed_at_it(client, doctor, cathy):
    dup = PatientFactory(
        legal_first_name="Katherine", legal_last_name="Andersen", date_of_birth=date(1975, 10, 19)
    )
    screen(cathy, estrogen="yes")
    screen(dup, estrogen="no", migraine="yes")
    PortalInvitation.objects.create(
        patient=dup, email=dup.email, token_hash="x" * 64, expires_at=dup.created_at
    )
    client.force_login(doctor)
    response = client.post(
        reverse("patients:merge", args=[cathy.pk]),
        {"duplicate_id": dup.pk, "reason": "Typo at registration"},
    )
    assert response.status_code == 302
    dup.refresh_from_db()
    assert dup.merged_into == cathy
    answers = dict(ScreeningAnswer.objects.filter(patient=cathy).values_list("question", "answer"))
    assert answers == {"estrogen": "yes", "migraine": "yes"}  # the kept record's answer wins
    assert PortalInvitation.objects.get().patient == cathy
    entries = AuditEntry.objects.filter(action="merge")
    assert {e.patient_id for e in entries} == {cathy.pk, dup.pk}
    assert entries[0].details["reason"] == "Typo at registration"
    # The closed record now leads to the kept one.
    assert client.get(reverse("patients:detail", args=[dup.pk])).url == reverse(
        "patients:detail", args=[cathy.pk]
    )


def test_it_keeps_an_administrator_from_the_merge_page_and_its_names(client, clinic_admin, cathy):
    # The patient pages answer the administrator 404; the merge page showed both records.
    dup = PatientFactory(legal_first_name="Xanthippe", date_of_birth=date(1961, 3, 17))
    client.force_login(clinic_admin)
    page = client.get(reverse("patients:merge", args=[cathy.pk]), {"duplicate": dup.pk})
    assert page.status_code in (403, 404)
    text = page.content.decode()
    assert "Xanthippe" not in text and cathy.legal_last_name not in text
    assert "1961" not in text
    response = client.post(
        reverse("patients:merge", args=[cathy.pk]),
        {"duplicate_id": dup.pk, "reason": "Same person"},
    )
    assert response.status_code in (403, 404)
    dup.refresh_from_db()
    assert dup.merged_into is None


def test_the_merge_service_refuses_an_administrator(cathy):
    dup = PatientFactory()
    admin = Actor(user=None, role=Role.ADMIN)
    with pytest.raises(PatientError, match="Only a doctor"):
        merge_patients(keep_id=cathy.pk, duplicate_id=dup.pk, reason="Same", by=admin)
    dup.refresh_from_db()
    assert dup.merged_into is None


def test_merging_is_open_only_to_roles_that_open_patient_records():
    assert set(MERGE_ROLES) <= set(STAFF_ROLES)


def test_it_keeps_front_desk_from_merging(client, front_desk, cathy):
    dup = PatientFactory()
    client.force_login(front_desk)
    response = client.post(
        reverse("patients:merge", args=[cathy.pk]), {"duplicate_id": dup.pk, "reason": "Same"}
    )
    assert response.status_code == 403
    dup.refresh_from_db()
    assert dup.merged_into is None


@pytest.mark.parametrize(
    ("duplicate", "reason", "message"),
    [
        ("self", "x", "Choose two different records."),
        (999999, "x", "One of the records no longer exists."),
        ("other", "   ", "This field is required."),
    ],
)
def test_it_refuses_a_bad_merge_with_a_message(client, doctor, cathy, duplicate, reason, message):
    other = PatientFactory()
    duplicate_id = {"self": cathy.pk, "other": other.pk}.get(duplicate, duplicate)
    client.force_login(doctor)
    response = client.post(
        reverse("patients:merge", args=[cathy.pk]), {"duplicate_id": duplicate_id, "reason": reason}
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Patient.objects.filter(merged_into__isnull=False).exists()


def test_it_refuses_to_merge_a_record_twice(client, doctor, cathy):
    dup = PatientFactory()
    client.force_login(doctor)
    data = {"duplicate_id": dup.pk, "reason": "Same person"}
    client.post(reverse("patients:merge", args=[cathy.pk]), data)
    again = client.post(reverse("patients:merge", args=[cathy.pk]), data)
    assert "already been merged" in again.content.decode()


def test_the_record_and_the_merge_page_tell_records_apart_by_their_day_not_their_id(client, doctor):
    """No database id in a label (issue 18, point 4): two records of one name and birthday
    differ by the day each was registered."""
    from datetime import datetime

    import time_machine

    same = {"legal_first_name": "Ann", "legal_last_name": "Lee", "date_of_birth": date(1980, 1, 2)}
    with time_machine.travel(datetime(2026, 11, 30, 18, tzinfo=UTC), tick=False):
        first = PatientFactory(**same)
    with time_machine.travel(datetime(2026, 12, 3, 18, tzinfo=UTC), tick=False):
        second = PatientFactory(**same)
    client.force_login(doctor)
    record = client.get(reverse("patients:detail", args=[first.pk])).content.decode()
    page = client.get(reverse("patients:merge", args=[first.pk]), {"duplicate": second.pk})
    merge = page.content.decode()
    assert f"#{first.pk}" not in record and "registered November 30, 2026" in record
    assert f"#{first.pk}" not in merge and f"#{second.pk}" not in merge
    assert "(registered November 30, 2026)" in merge and "(registered December 3, 2026)" in merge
