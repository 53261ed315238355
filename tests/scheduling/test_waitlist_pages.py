"""Issue 17, point 3, through the pages: staff see who waits and every offer made, put a
patient on the list from the record, take a wish off, lift time off; the patient joins and
leaves from the portal; the offer's link (no login) books the time once, and says so."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from scheduling import services
from scheduling.models import (
    Appointment,
    Kind,
    OfferStatus,
    TimeOff,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistStatus,
)
from scheduling.services import waitlist
from tests.factories import PatientFactory, UserFactory
from tests.scheduling.conftest import MONDAY, at, desk_actor, work_weekdays
from tests.scheduling.test_waitlist import wait

pytestmark = pytest.mark.usefixtures("waking_all_day")

WEDNESDAY = MONDAY + timedelta(days=2)


def freed_and_offered(front_desk, doctor, entry_patient=None):
    """A visit on Wednesday at 10 cancelled, and offered to a waiting patient."""
    entry = wait(front_desk, entry_patient)
    taken = services.book_appointment(
        patient=PatientFactory(),
        doctor=doctor,
        kind=Kind.CONSULTATION,
        starts_at=at(WEDNESDAY, 10),
        by=desk_actor(front_desk),
    )
    services.cancel_appointment(
        appointment=taken, by=desk_actor(front_desk), cancelled_by="clinic", reason="ill"
    )
    waitlist.offer_openings()
    offer = WaitlistOffer.objects.filter(entry=entry).order_by("-pk").first()
    return entry, offer, reverse("portal:waitlist_offer", args=[waitlist.token_for(offer.nonce)])


def test_staff_see_who_waits_in_order_and_every_offer(client, now, hours, front_desk, doctor):
    entry, offer, _link = freed_and_offered(front_desk, doctor)
    later = wait(front_desk, PatientFactory(legal_last_name="Zimmer"))
    client.force_login(front_desk)
    html = client.get(reverse("scheduling:waitlist")).content.decode()
    assert html.index(entry.patient.display_name) < html.index(later.patient.display_name)
    assert "Offered, no answer yet" in html and "Cancelled" in html
    assert reverse("scheduling:waitlist_remove", args=[later.pk]) in html


def test_the_waitlist_page_reads_a_fixed_number_of_queries(
    client, now, hours, front_desk, doctor, django_assert_max_num_queries, settings
):
    settings.WAITLIST_OFFERS_AT_ONCE = 10  # every wait below gets an offer too
    client.force_login(front_desk)
    freed_and_offered(front_desk, doctor)
    with django_assert_max_num_queries(12) as few:
        client.get(reverse("scheduling:waitlist"))
    for _ in range(5):
        wait(front_desk)
    second = UserFactory(username="dr.two", role="doctor")
    work_weekdays(second, hours)
    freed_and_offered(front_desk, second)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(reverse("scheduling:waitlist")).status_code == 200


@pytest.mark.parametrize("role", ["patient", "anonymous"])
def test_the_staff_pages_are_refused_to_others(client, now, hours, front_desk, patient, role):
    entry = wait(front_desk)
    if role == "patient":
        client.force_login(patient)
    for url in (
        reverse("scheduling:waitlist"),
        reverse("scheduling:waitlist_add", args=[entry.patient_id]),
    ):
        response = client.get(url)
        assert response.status_code in (302, 403), url
    response = client.post(reverse("scheduling:waitlist_remove", args=[entry.pk]))
    assert response.status_code in (302, 403)
    assert WaitlistEntry.objects.get(pk=entry.pk).status == WaitlistStatus.WAITING


def test_the_desk_puts_a_patient_on_the_list_from_the_record(client, now, hours, front_desk):
    record = PatientFactory()
    client.force_login(front_desk)
    page = client.get(reverse("patients:detail", args=[record.pk])).content.decode()
    add = reverse("scheduling:waitlist_add", args=[record.pk])
    assert add in page
    response = client.post(
        add,
        {
            "kind": "consultation",
            "weekdays": ["1", "3"],
            "day_part": "morning",
            "not_before": "2026-12-01",
            "note": "Prefers Dr Lee",
        },
    )
    assert response.status_code == 302
    entry = WaitlistEntry.objects.get(patient=record)
    assert entry.weekdays == 0b1010 and entry.day_part == "morning"
    page = client.get(reverse("patients:detail", args=[record.pk])).content.decode()
    assert "waiting since" in page
    # The same again: a message, nothing saved twice.
    again = client.post(add, {"kind": "consultation", "weekdays": ["1"], "day_part": "any",
                              "not_before": "2026-12-01"})  # fmt: skip
    assert again.status_code == 200 and "already" in again.content.decode()
    assert WaitlistEntry.objects.filter(patient=record).count() == 1


def test_a_session_is_offered_only_to_a_patient_with_an_active_plan(client, now, hours, front_desk):
    record = PatientFactory()
    client.force_login(front_desk)
    response = client.post(
        reverse("scheduling:waitlist_add", args=[record.pk]),
        {"kind": "session", "weekdays": ["1"], "day_part": "any", "not_before": "2026-12-01"},
    )
    assert response.status_code == 200
    assert not WaitlistEntry.objects.exists()


def test_the_desk_takes_a_wish_off_and_a_get_changes_nothing(client, now, hours, front_desk):
    entry = wait(front_desk)
    client.force_login(front_desk)
    url = reverse("scheduling:waitlist_remove", args=[entry.pk])
    assert client.get(url).status_code == 405
    assert client.post(url).status_code == 302
    assert WaitlistEntry.objects.get(pk=entry.pk).status == WaitlistStatus.REMOVED
    missing = client.post(reverse("scheduling:waitlist_remove", args=[entry.pk + 999]), follow=True)
    assert "does not exist" in missing.content.decode()


def test_lifting_time_off_from_the_page_offers_it(client, now, hours, front_desk, doctor):
    block = TimeOff.objects.create(
        doctor=doctor, starts_at=at(WEDNESDAY, 8), ends_at=at(WEDNESDAY, 12)
    )
    entry = wait(front_desk)
    client.force_login(front_desk)
    page = client.get(reverse("scheduling:time_off")).content.decode()
    lift = reverse("scheduling:time_off_lift", args=[block.pk])
    assert lift in page
    assert client.post(lift).status_code == 302
    assert not TimeOff.objects.exists()
    waitlist.offer_openings()
    assert WaitlistOffer.objects.get(entry=entry).starts_at == at(WEDNESDAY, 8)
    again = client.post(lift, follow=True)
    assert "lifted already" in again.content.decode()


def test_a_doctor_lifts_only_their_own_time_off(client, now, hours, doctor, other_doctor):
    block = TimeOff.objects.create(
        doctor=other_doctor, starts_at=at(WEDNESDAY, 8), ends_at=at(WEDNESDAY, 12)
    )
    client.force_login(doctor)
    response = client.post(reverse("scheduling:time_off_lift", args=[block.pk]), follow=True)
    assert "their own time off" in response.content.decode()
    assert TimeOff.objects.filter(pk=block.pk).exists()


def test_the_patient_joins_and_leaves_from_the_portal(client, now, hours, front_desk, patient):
    record = PatientFactory(portal_user=patient)
    client.force_login(patient)
    assert reverse("portal:waitlist") in client.get(reverse("portal:schedule")).content.decode()
    page = client.get(reverse("portal:waitlist")).content.decode()
    assert 'name="doctor"' not in page and 'name="note"' not in page
    response = client.post(
        reverse("portal:waitlist"),
        {"kind": "consultation", "weekdays": ["0", "4"], "day_part": "afternoon",
         "not_before": "2026-12-01"},
    )  # fmt: skip
    assert response.status_code == 302
    entry = WaitlistEntry.objects.get(patient=record)
    # Another patient's wish: refused, and left as it was.
    other = wait(front_desk)
    refused = client.post(reverse("portal:leave_waitlist", args=[other.pk]), follow=True)
    assert "does not exist" in refused.content.decode()
    assert WaitlistEntry.objects.get(pk=other.pk).status == WaitlistStatus.WAITING
    client.post(reverse("portal:leave_waitlist", args=[entry.pk]))
    assert WaitlistEntry.objects.get(pk=entry.pk).status == WaitlistStatus.REMOVED


def test_a_patient_cannot_wait_for_a_session_without_a_plan(client, now, hours, patient):
    PatientFactory(portal_user=patient)
    client.force_login(patient)
    response = client.post(
        reverse("portal:waitlist"),
        {"kind": "session", "weekdays": ["0"], "day_part": "any", "not_before": "2026-12-01"},
    )
    assert response.status_code == 200
    assert not WaitlistEntry.objects.exists()


def test_the_offer_link_shows_the_time_and_a_get_books_nothing(
    client, now, hours, front_desk, doctor
):
    entry, offer, link = freed_and_offered(front_desk, doctor)
    response = client.get(link)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Wednesday, December 2, 2026 at 10:00 AM" in html and "Book this time" in html
    assert not Appointment.objects.filter(patient=entry.patient).exists()


def test_the_offer_link_books_once_and_then_says_booked(client, now, hours, front_desk, doctor):
    entry, offer, link = freed_and_offered(front_desk, doctor)
    response = client.post(link, {"answer": "yes"}, follow=True)
    assert "Your time is booked" in response.content.decode()
    again = client.post(link, {"answer": "yes"}, follow=True)
    assert "Your time is booked" in again.content.decode()
    assert Appointment.objects.filter(patient=entry.patient, status="booked").count() == 1


def test_no_thanks_keeps_the_patient_waiting(client, now, hours, front_desk, doctor):
    entry, offer, link = freed_and_offered(front_desk, doctor)
    response = client.post(link, {"answer": "no"}, follow=True)
    assert "You stay on the waitlist" in response.content.decode()
    offer.refresh_from_db()
    assert offer.status == OfferStatus.DECLINED
    assert WaitlistEntry.objects.get(pk=entry.pk).status == WaitlistStatus.WAITING


def test_a_lapsed_offer_says_so_and_books_nothing(client, now, hours, front_desk, doctor):
    entry, offer, link = freed_and_offered(front_desk, doctor)
    now.move_to(timezone.now() + timedelta(hours=3))
    assert "has passed" in client.get(link).content.decode()
    response = client.post(link, {"answer": "yes"}, follow=True)
    assert "has passed" in response.content.decode()
    assert not Appointment.objects.filter(patient=entry.patient).exists()


@pytest.mark.parametrize("token", ["made-up", "x" * 300, "%00", "' OR 1=1 --"])
def test_a_forged_offer_link_answers_a_clear_page_with_the_phone(client, now, hours, token):
    hours.phone = "(503) 555-0100"
    hours.save()
    for method in (client.get, client.post):
        response = method(reverse("portal:waitlist_offer", args=[token]))
        assert response.status_code == 404
        html = response.content.decode()
        assert "This link does not work" in html and "(503) 555-0100" in html
    assert not Appointment.objects.exists()
