"""Issue 15, point 1: a new patient books a consultation online. The public page offers the
free consultation times; nothing is booked until the person follows the link emailed to them;
the page answers the same whatever the details, and bad links change nothing."""

import re
from datetime import date, timedelta

import pytest
from django.core import mail
from django.db import connection
from django.urls import reverse
from django.utils import dateformat

from goodskin.actors import Actor
from goodskin.roles import Role
from messaging import sending
from messaging.models import Message
from patients.models import AuditEntry, Patient, ScreeningAnswer
from patients.screening import QUESTIONS
from scheduling import services
from scheduling.models import Appointment, BookingRequest, BookingStatus, Kind, Status
from scheduling.online_booking_link import token_for
from scheduling.services import online_booking
from tests.concurrency import contend
from tests.factories import PatientFactory
from tests.scheduling.conftest import MONDAY, TZ, at, desk_actor

URL = reverse("portal:book")
SENT = reverse("portal:book_sent")


def form_data(client, **changes) -> dict:
    page = client.get(URL)
    assert page.status_code == 200
    first = next(iter(page.context["form"].options))
    data = {
        "starts_at": first,
        "legal_first_name": "Marisol",
        "legal_last_name": "Quintero",
        "date_of_birth": "1984-03-09",
        "email": "marisol.q@example.net",
        "phone": "+15035550142",
        "consent_email": "on",
        "form_token": page.context["form"].initial["form_token"],
        **{q.key: "no" for q in QUESTIONS},
        "estrogen": "yes",
    }
    data.update(changes)
    return data


def ask(client, **changes):
    return client.post(URL, form_data(client, **changes))


def link_from_outbox() -> str:
    sending.send_batch(10)
    (email,) = [m for m in mail.outbox if m.subject == "Confirm your consultation request"]
    return re.search(r"https?://\S+/portal/book/confirm/\S+/", email.body)[0]


def path_of(link: str) -> str:
    return "/" + link.split("/", 3)[3]


@pytest.fixture
def clinic(now, hours):
    return hours


def test_it_offers_consultation_times_after_the_notice_on_the_hour_or_half(client, clinic):
    page = client.get(URL)
    options = list(page.context["form"].options.values())
    assert options
    notice = services.scheduling_settings().patient_notice_hours
    assert min(c.starts_at for c in options) > at(MONDAY, 7) + timedelta(hours=notice)
    assert {c.starts_at.minute for c in options} <= {0, 30}
    assert 'name="website"' in page.content.decode()


def test_a_request_books_nothing_and_emails_a_link_kept_without_it(client, clinic):
    response = ask(client)
    assert response.url == SENT
    request = BookingRequest.objects.get()
    assert request.status == BookingStatus.PENDING
    assert not Patient.objects.exists() and not Appointment.objects.exists()
    link = link_from_outbox()
    token = link.rstrip("/").rsplit("/", 1)[1]
    message = Message.objects.get(address="marisol.q@example.net")
    assert token not in message.body and "not kept" in message.body
    assert request.token_hash != token and token not in str(request.__dict__)


def test_following_the_link_books_the_consultation_for_a_new_patient(client, clinic, doctor):
    ask(client)
    request = BookingRequest.objects.get()
    path = path_of(link_from_outbox())
    page = client.get(path)
    assert "Confirm my booking" in page.content.decode()
    assert not Patient.objects.exists()  # a GET (a mail scanner) changes nothing
    page = client.post(path)
    assert "your request is confirmed" in page.content.decode()
    patient = Patient.objects.get()
    assert (patient.legal_first_name, patient.email) == ("Marisol", "marisol.q@example.net")
    assert patient.consent_email and not patient.consent_sms
    appointment = Appointment.objects.get()
    assert (appointment.patient, appointment.doctor) == (patient, doctor)
    assert (appointment.kind, appointment.starts_at) == (Kind.CONSULTATION, request.starts_at)
    assert appointment.booking_request.status == BookingStatus.CONFIRMED
    # The patient's own answers: a "yes" counts at once, a "no" waits for the doctor.
    estrogen = ScreeningAnswer.objects.get(patient=patient, question="estrogen")
    assert (estrogen.answer, estrogen.from_patient) == ("yes", True)
    allergy = ScreeningAnswer.objects.get(patient=patient, question="sclerosant_allergy")
    assert (allergy.answer, allergy.patient_answer) == ("unknown", "no")
    # The booking notice reaches the brand-new patient.
    sending.send_batch(10)
    assert any(m.to == ["marisol.q@example.net"] and m is not mail.outbox[0] for m in mail.outbox)
    assert Message.objects.filter(patient=patient).exists()


def test_a_used_link_changes_nothing(client, clinic):
    ask(client)
    path = path_of(link_from_outbox())
    client.post(path)
    page = client.post(path)
    assert page.status_code == 200
    assert Patient.objects.count() == 1 and Appointment.objects.count() == 1


@pytest.mark.parametrize("token", ["x", "0" * 64, "not.a-token_~", "a" * 500])
def test_a_forged_link_says_so_and_changes_nothing(client, clinic, token):
    ask(client)
    for method in (client.get, client.post):
        page = method(reverse("portal:book_confirm", args=[token]))
        assert page.status_code == 404
        assert "This link does not work" in page.content.decode()
    assert BookingRequest.objects.get().status == BookingStatus.PENDING
    assert not Patient.objects.exists()


def test_an_expired_link_says_so_and_changes_nothing(client, clinic, now):
    ask(client)
    path = path_of(link_from_outbox())
    now.shift(timedelta(hours=25))
    page = client.post(path)
    assert page.status_code == 410
    assert "This link has expired" in page.content.decode()
    assert BookingRequest.objects.get().status == BookingStatus.PENDING
    assert not Patient.objects.exists() and not Appointment.objects.exists()


def test_a_robot_filling_the_hidden_field_is_answered_as_usual_and_nothing_is_kept(client, clinic):
    response = ask(client, website="http://spam.example")
    assert response.url == SENT
    assert not BookingRequest.objects.exists() and not Message.objects.exists()


def test_a_double_click_keeps_one_request(client, clinic):
    data = form_data(client)
    client.post(URL, data)
    assert client.post(URL, data).url == SENT
    assert BookingRequest.objects.count() == 1 and Message.objects.count() == 1


def test_more_requests_for_one_contact_are_silently_not_kept(client, clinic, settings):
    settings.ONLINE_BOOKING_PER_CONTACT = 2
    for n in range(3):
        assert ask(client, phone=f"+1503555020{n}").url == SENT
    assert BookingRequest.objects.count() == 2 and Message.objects.count() == 2


def test_more_requests_from_one_address_are_refused(client, clinic, settings):
    settings.ONLINE_BOOKING_PER_ADDRESS = 2
    for n in range(2):
        assert ask(client, email=f"p{n}@example.net").url == SENT
    response = ask(client, email="p9@example.net")
    assert response.status_code == 429
    assert BookingRequest.objects.count() == 2


def test_the_page_tells_nothing_of_existing_patients(client, clinic):
    """The same answer, and the same message queued, for a patient's email and a stranger's."""
    PatientFactory(email="known@example.org", phone="+15035550111")
    known = ask(client, email="known@example.org", phone="+15035550111")
    unknown = ask(client, email="stranger@example.org", phone="+15035550112")
    assert (known.status_code, known.url) == (unknown.status_code, unknown.url)
    assert client.get(known.url).content == client.get(unknown.url).content
    effects = [
        list(Message.objects.filter(address=email).values_list("kind", "status", "channel"))
        for email in ("known@example.org", "stranger@example.org")
    ]
    assert effects[0] == effects[1] and len(effects[0]) == 1


def outcome_of_confirming(client, email: str) -> dict:
    """What a person who typed these details can see once they follow their link: the page,
    the messages sent to the address they gave, and whether their time left the public list."""
    ask(client, email=email, phone="")
    request = BookingRequest.objects.get(email=email)
    page = client.post(path_of(link_from_outbox())).content.decode()
    mail.outbox.clear()
    sending.send_batch(20)
    local = request.starts_at.astimezone(TZ)
    for shown in (dateformat.format(local, "l, F j, Y"), dateformat.format(local, "g:i A")):
        assert shown in page
        page = page.replace(shown, "WHEN")
    return {
        "page": page,
        "sent": sorted((m.subject, len(m.attachments)) for m in mail.outbox if m.to == [email]),
        "time still offered": any(
            c.starts_at == request.starts_at for c in online_booking.consultation_options()
        ),
    }


def test_a_likely_existing_patient_is_booked_under_a_new_record_for_the_desk(client, clinic):
    existing = PatientFactory(
        legal_first_name="Marisol", legal_last_name="Quintero", date_of_birth="1984-03-09"
    )
    ask(client)
    page = client.post(path_of(link_from_outbox()))
    assert "your request is confirmed" in page.content.decode()
    assert "Quintero" not in page.content.decode()
    request = BookingRequest.objects.get()
    assert (request.status, request.matched_patient) == (BookingStatus.NEEDS_DESK, existing)
    assert request.patient != existing and Patient.objects.count() == 2
    assert Appointment.objects.get().patient == request.patient == request.appointment.patient


def test_confirming_shows_nothing_of_whether_the_person_is_a_patient_already(client, clinic):
    """Someone who types a patient's name and birthday with their own email gets the same page,
    the same email and the same time taken as someone who is new: nothing tells them apart."""
    from django.test import Client

    new_person = outcome_of_confirming(client, "new.person@example.net")
    assert not BookingRequest.objects.filter(status=BookingStatus.NEEDS_DESK).exists()
    # Now a record with these details exists: the same details again are a likely match.
    Patient.objects.update(email="someone.else@example.org")
    lookalike = outcome_of_confirming(Client(), "lookalike@example.net")
    assert BookingRequest.objects.get(email="lookalike@example.net").status == (
        BookingStatus.NEEDS_DESK
    )
    assert new_person["sent"] and new_person["sent"][0][1] == 1  # the booking, with its .ics
    assert lookalike == new_person
    assert not lookalike["time still offered"]


def test_a_time_taken_meanwhile_says_so_and_offers_the_next_times(
    client, clinic, doctor, front_desk
):
    ask(client)
    request = BookingRequest.objects.get()
    services.book_appointment(
        patient=PatientFactory(),
        doctor=doctor,
        kind=Kind.CONSULTATION,
        starts_at=request.starts_at,
        by=desk_actor(front_desk),
    )
    path = path_of(link_from_outbox())
    page = client.post(path)
    assert "That time was just taken" in page.content.decode()
    assert BookingRequest.objects.get().status == BookingStatus.LOST_TIME
    assert Patient.objects.count() == 1  # no record left behind for the new person
    offered = list(page.context["form"].options)
    assert offered
    page = client.post(path, {"starts_at": offered[0]})
    assert "your request is confirmed" in page.content.decode()
    request.refresh_from_db()
    assert request.status == BookingStatus.CONFIRMED
    assert request.appointment.starts_at.isoformat() == offered[0].split("|")[0]
    assert request.appointment.status == Status.BOOKED


@pytest.mark.parametrize(
    "changes",
    [
        {"starts_at": "2026-12-01T09:00:00+00:00|1"},
        {"starts_at": "nonsense"},
        {"date_of_birth": "0001-01-01"},
        {"date_of_birth": "2999-01-01"},
        {"legal_first_name": "Ma\x00risol"},
        {"email": "not-an-email"},
        {"phone": "12"},
        {"estrogen": "maybe"},
        {"consent_sms": "on", "phone": ""},
        {"form_token": "not-a-uuid"},
    ],
)
def test_bad_input_is_refused_on_the_page(client, clinic, changes):
    response = ask(client, **changes)
    assert response.status_code == 200
    assert not BookingRequest.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_confirmations_at_once_book_once(clinic):
    """The request row is locked: without the lock both see it waiting, and the second, finding
    the time taken by the first, records the request as lost after it was booked."""
    from django.db import connection

    choice = online_booking.consultation_options()[0]
    details = {
        "legal_first_name": "Marisol",
        "legal_last_name": "Quintero",
        "date_of_birth": "1984-03-09",
        "email": "marisol.q@example.net",
        "phone": "",
        "consent_email": True,
        "consent_sms": False,
        "answers": {},
    }
    online_booking.request_consultation(details=details, choice=choice, ip="10.0.0.1")
    from scheduling.online_booking_link import token_for

    token = token_for(BookingRequest.objects.get().nonce)
    connection.close()

    def confirm():
        return online_booking.confirm_online_booking(token=token, ip="10.0.0.1")

    holder, contender, waited = contend(confirm, confirm)
    assert holder.status == BookingStatus.CONFIRMED, holder
    assert waited
    request = BookingRequest.objects.get()
    assert request.status == BookingStatus.CONFIRMED
    assert Patient.objects.count() == 1 and Appointment.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_posts_of_one_form_at_once_keep_one_request(clinic):
    """The request and its email are written in one transaction: the second post waits on the
    first's unique form token and keeps nothing, and the first's email goes with its request."""
    import uuid

    from django.db import connection

    choice = online_booking.consultation_options()[0]
    details = {
        "legal_first_name": "Marisol",
        "legal_last_name": "Quintero",
        "date_of_birth": "1984-03-09",
        "email": "marisol.q@example.net",
        "phone": "",
        "consent_email": True,
        "consent_sms": False,
        "answers": {},
    }
    token = uuid.uuid4()
    connection.close()

    def send():
        return online_booking.request_consultation(
            details=details, choice=choice, ip="10.0.0.1", form_token=token
        )

    holder, contender, waited = contend(send, send)
    assert (holder, contender, waited) == (True, True, True)
    assert BookingRequest.objects.count() == 1 and Message.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_request_whose_email_cannot_be_queued_is_not_kept(clinic, monkeypatch):
    """One transaction: a request kept without its email would wait for a link never sent."""
    from scheduling import online_booking_link

    choice = online_booking.consultation_options()[0]

    def broken(request):
        raise RuntimeError("outbox down")

    monkeypatch.setattr(online_booking_link, "queue", broken)
    details = {
        "legal_first_name": "Marisol",
        "legal_last_name": "Quintero",
        "date_of_birth": "1984-03-09",
        "email": "marisol.q@example.net",
        "phone": "",
        "consent_email": True,
        "consent_sms": False,
        "answers": {},
    }
    with pytest.raises(RuntimeError):
        online_booking.request_consultation(details=details, choice=choice, ip="10.0.0.1")
    assert not BookingRequest.objects.exists()


def test_the_front_desk_sees_online_bookings_marked(client, clinic, doctor, front_desk):
    ask(client)
    client.post(path_of(link_from_outbox()))
    online = Appointment.objects.get()
    desk = services.book_appointment(
        patient=PatientFactory(),
        doctor=doctor,
        kind=Kind.CONSULTATION,
        starts_at=online.starts_at + timedelta(hours=1),
        by=desk_actor(front_desk),
    )
    client.force_login(front_desk)
    day = online.starts_at.astimezone(TZ).date().isoformat()
    for name in ("scheduling:day", "scheduling:week"):
        page = client.get(reverse(name), {"date": day}).content.decode()
        assert page.count("Online") == 1, name
    assert (
        "Online" in client.get(reverse("scheduling:appointment", args=[online.pk])).content.decode()
    )
    assert (
        "Online"
        not in client.get(reverse("scheduling:appointment", args=[desk.pk])).content.decode()
    )


@pytest.fixture
def needs_desk(client, clinic):
    existing = PatientFactory(
        legal_first_name="Marisol", legal_last_name="Quintero", date_of_birth="1984-03-09"
    )
    ask(client)
    client.post(path_of(link_from_outbox()))
    return BookingRequest.objects.get(status=BookingStatus.NEEDS_DESK), existing


DESK = reverse("scheduling:online_requests")


def test_the_front_desk_lists_open_requests_with_the_likely_match(client, needs_desk, front_desk):
    request, existing = needs_desk
    client.force_login(front_desk)
    page = client.get(DESK).content.decode()
    assert "Quintero" in page and reverse("patients:detail", args=[existing.pk]) in page
    assert reverse("patients:detail", args=[request.patient_id]) in page
    assert "Same person: join the new record into this one" in page


def test_same_person_joins_the_new_record_into_the_existing_one(client, needs_desk, front_desk):
    request, existing = needs_desk
    new = request.patient
    ScreeningAnswer.objects.create(patient=existing, question="estrogen", answer="no")
    client.force_login(front_desk)
    response = client.post(DESK, {"request": request.pk, "resolution": "same"}, follow=True)
    assert "Done." in response.content.decode()
    request.refresh_from_db()
    new.refresh_from_db()
    assert (request.status, request.patient, request.resolved_by) == (
        BookingStatus.CONFIRMED,
        existing,
        front_desk,
    )
    assert new.merged_into == existing
    assert Appointment.objects.get().patient == existing
    assert not Message.objects.filter(patient=new).exists()
    # The person's "yes" counts on the existing record, marked as theirs for the doctor.
    estrogen = ScreeningAnswer.objects.get(patient=existing, question="estrogen")
    assert (estrogen.answer, estrogen.from_patient) == ("yes", True)
    assert not ScreeningAnswer.objects.filter(patient=new).exists()
    assert AuditEntry.objects.filter(subject="online booking request", user=front_desk).exists()
    assert AuditEntry.objects.filter(patient=existing, action="merge", user=front_desk).exists()


def test_a_different_person_keeps_both_records(client, needs_desk, front_desk):
    request, existing = needs_desk
    client.force_login(front_desk)
    client.post(DESK, {"request": request.pk, "resolution": "new"})
    request.refresh_from_db()
    assert request.status == BookingStatus.CONFIRMED and request.patient != existing
    assert request.patient.merged_into is None
    assert Appointment.objects.get().patient == request.patient
    assert Patient.objects.count() == 2


def test_a_settled_request_is_not_settled_again(client, needs_desk, front_desk):
    request, existing = needs_desk
    client.force_login(front_desk)
    client.post(DESK, {"request": request.pk, "resolution": "new"})
    response = client.post(DESK, {"request": request.pk, "resolution": "same"}, follow=True)
    assert "This request was dealt with already." in response.content.decode()
    assert not Patient.objects.filter(merged_into__isnull=False).exists()


def test_a_new_record_a_doctor_has_charted_is_not_joined_by_the_desk(
    client, needs_desk, front_desk, doctor
):
    from treatments.models import Consultation

    request, existing = needs_desk
    Consultation.objects.create(
        patient=request.patient, doctor=doctor, held_on=request.starts_at.date()
    )
    client.force_login(front_desk)
    response = client.post(DESK, {"request": request.pk, "resolution": "same"}, follow=True)
    assert "ask a doctor to merge the two records" in response.content.decode()
    request.refresh_from_db()
    assert request.status == BookingStatus.NEEDS_DESK
    assert not Patient.objects.filter(merged_into__isnull=False).exists()


@pytest.mark.parametrize(
    "data", [{}, {"request": "x"}, {"request": "999999"}, {"request": "1", "resolution": "x"}]
)
def test_bad_posts_to_the_desk_list_change_nothing(client, needs_desk, front_desk, data):
    client.force_login(front_desk)
    assert client.post(DESK, data).status_code == 302
    assert BookingRequest.objects.get().status == BookingStatus.NEEDS_DESK


def likely_patient_booked(front_desk):
    """A committed request, booked under a new record, that may be Marisol's existing one."""
    existing = PatientFactory(
        legal_first_name="Marisol", legal_last_name="Quintero", date_of_birth="1984-03-09"
    )
    choice = online_booking.consultation_options()[0]
    details = {
        "legal_first_name": "Marisol",
        "legal_last_name": "Quintero",
        "date_of_birth": "1984-03-09",
        "email": "marisol.q@example.net",
        "phone": "",
        "consent_email": True,
        "consent_sms": False,
        "answers": {"estrogen": "yes"},
    }
    online_booking.request_consultation(details=details, choice=choice, ip="10.0.0.1")
    request = BookingRequest.objects.get()
    online_booking.confirm_online_booking(token=token_for(request.nonce), ip=None)
    request.refresh_from_db()
    assert request.status == BookingStatus.NEEDS_DESK
    connection.close()
    return request, existing, Actor(user=front_desk, role=Role.FRONT_DESK)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("resolution", ["same", "new"])
def test_two_desk_clicks_at_once_settle_a_request_once(clinic, front_desk, resolution):
    """The patient rows are locked: without the lock both see the request waiting, and both
    settle it (twice audited; "same" would join the records twice)."""
    request, existing, by = likely_patient_booked(front_desk)

    def settle():
        return online_booking.resolve_online_request(
            request_id=request.pk, resolution=resolution, by=by
        )

    holder, contender, waited = contend(settle, settle)
    assert holder.status == BookingStatus.CONFIRMED, holder
    assert str(contender) == "This request was dealt with already.", contender
    assert waited
    assert Appointment.objects.count() == 1
    assert AuditEntry.objects.filter(subject="online booking request").count() == 1
    joined = Patient.objects.filter(merged_into=existing).count()
    assert joined == (1 if resolution == "same" else 0)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("desk_first", [True, False])
def test_the_desk_joining_and_a_doctor_merging_at_once_merge_once(
    clinic, front_desk, doctor, desk_first
):
    """Both lock the two records in id order, so one waits for the other (no deadlock) and the
    second finds the work done: the records are merged once, and the request is settled."""
    from patients.services import PatientError, merge_patients

    request, existing, by = likely_patient_booked(front_desk)
    new_id = request.patient_id

    def join():
        return online_booking.resolve_online_request(
            request_id=request.pk, resolution="same", by=by
        )

    def merge():
        return merge_patients(
            keep_id=existing.pk,
            duplicate_id=new_id,
            reason="same person",
            by=Actor(user=doctor, role=Role.DOCTOR),
        )

    from patients import merging

    if desk_first:
        holder, contender, waited = contend(join, merge)
    else:  # the doctor's merge opens its own (durable) transaction: held once rows have moved
        holder, contender, waited = contend(merge, join, pause=(merging, "move_all"))
    assert not isinstance(holder, Exception), holder
    assert waited
    if desk_first:
        assert isinstance(contender, PatientError), contender
    else:
        assert str(contender) == "This request changed meanwhile. Open the page again."
        # Opened again, the request settles: the records are one already.
        online_booking.resolve_online_request(request_id=request.pk, resolution="same", by=by)
    request.refresh_from_db()
    assert request.status == BookingStatus.CONFIRMED and request.patient == existing
    assert list(Patient.objects.filter(merged_into=existing).values_list("pk", flat=True)) == [
        new_id
    ]
    assert Appointment.objects.get().patient == existing


def test_a_link_email_that_could_not_be_delivered_is_shown_to_the_desk(client, clinic, front_desk):
    ask(client)
    ask(client, email="second@example.net", phone="+15035550190")
    Message.objects.filter(address="marisol.q@example.net").update(
        status="failed", last_error="Recipient address rejected"
    )
    client.force_login(front_desk)
    page = client.get(DESK).content.decode()
    assert page.count("The email with their link could not be delivered") == 1
    assert "Recipient address rejected" in page and "Call them to book by phone." in page
    home = client.get(reverse("frontdesk_home")).content.decode()
    assert "1 to check" in home


def test_the_desk_home_counts_the_requests_waiting_for_it(client, needs_desk, front_desk):
    client.force_login(front_desk)
    assert "1 to check" in client.get(reverse("frontdesk_home")).content.decode()
    request, existing = needs_desk
    client.post(DESK, {"request": request.pk, "resolution": "new"})
    assert "to check" not in client.get(reverse("frontdesk_home")).content.decode()


def test_requests_never_confirmed_are_forgotten_a_week_after_their_link_expired(
    client, clinic, now, settings
):
    from scheduling import tasks

    ask(client)
    client.post(path_of(link_from_outbox()))  # confirmed: kept with its appointment
    ask(client, email="never@example.net", phone="+15035550191")
    now.shift(online_booking.VALID_FOR + online_booking.KEEP_UNCONFIRMED - timedelta(minutes=5))
    assert tasks.forget_unconfirmed_online_requests() == 0
    now.shift(timedelta(minutes=10))
    assert tasks.forget_unconfirmed_online_requests() == 1
    assert list(BookingRequest.objects.values_list("status", flat=True)) == ["confirmed"]
    schedule = settings.CELERY_BEAT_SCHEDULE["forget-unconfirmed-online-requests"]
    assert schedule["task"] == "scheduling.tasks.forget_unconfirmed_online_requests"


@pytest.mark.parametrize("spring", [False, True], ids=["clocks back", "clocks forward"])
def test_public_times_keep_to_the_working_day_across_a_change_of_the_clocks(
    client, office, doctor, spring
):
    """The week the clocks change (1 November and 8 March 2026 in Oregon), the times offered
    are the office's hours on the wall clock on both sides of the change, and the page says
    them as the clock on the wall will."""
    import time_machine

    from tests.scheduling.conftest import work_weekdays

    work_weekdays(doctor, office)
    # A Thursday morning: the notice leaves Friday, then the week after the Sunday change.
    thursday = date(2026, 3, 5) if spring else date(2026, 10, 29)
    change = thursday + timedelta(days=3)
    with time_machine.travel(at(thursday, 7), tick=False):
        response = client.get(URL)
    page, options = response.content.decode(), list(response.context["form"].options.values())
    local = [c.starts_at.astimezone(TZ) for c in options]
    assert {t.date() < change for t in local} == {True, False}, sorted({t.date() for t in local})
    assert {(t.hour, t.minute) for t in local} <= {(h, m) for h in range(8, 17) for m in (0, 30)}
    after = [t for t in local if t.date() > change]
    assert f">{after[0].hour % 12 or 12}:{after[0].minute:02d}" in page
