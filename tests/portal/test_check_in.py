"""Issue 16, point 1: the safety check-in after each session. A link with no login, the day
after and a week after a session, asks how the patient's legs are; a warning sign shows at once
what to do and alerts the treating doctor (listed on the doctors' home until handled); no
answer after two days is listed for the front desk to call; what the patient said shows on the
chart of the next session. Bad links answer with a clear page and the clinic's phone."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from messaging import sending
from messaging.models import Message, MessageStatus
from patients.models import AuditEntry
from tests.concurrency import contend
from tests.factories import UserFactory
from tests.scheduling.conftest import MONDAY, at
from tests.scheduling.test_aftercare_days import treated
from tests.treatments.conftest import chart_session
from treatments import check_ins
from treatments.models import CheckInReply, SafetyCheckIn
from treatments.selectors import get_clinic_settings

PHONE = "+1 503-555-0100"


@pytest.fixture
def session(hours, front_desk, doctor, record):
    """A session completed on Monday at 9:30; the office has a phone."""
    hours.phone = PHONE
    hours.save(update_fields=["phone"])
    return treated(front_desk, doctor, record, MONDAY)


def link_of(check_in: SafetyCheckIn) -> str:
    return reverse("portal:check_in", args=[check_ins.token_for(check_in.nonce)])


def first(session) -> SafetyCheckIn:
    return SafetyCheckIn.objects.get(appointment_id=session.pk, days_after=1)


def answer(client, check_in, *answers, note=""):
    path = link_of(check_in)
    page = client.get(path)
    token = page.context["form"].initial["form_token"]
    return client.post(path, {"answers": list(answers), "note": note, "form_token": token})


# --- The check-ins and their messages ------------------------------------------------------


def test_a_completed_session_is_followed_by_a_check_in_the_day_after_and_a_week_after(session):
    hour = get_clinic_settings().aftercare_hour
    rows = SafetyCheckIn.objects.filter(appointment_id=session.pk).order_by("days_after")
    assert [(c.days_after, c.due_at) for c in rows] == [
        (1, at(MONDAY + timedelta(days=1), hour)),
        (7, at(MONDAY + timedelta(days=7), hour)),
    ]
    messages = Message.objects.filter(kind="check_in", patient=session.patient)
    assert sorted(messages.values_list("topic_id", flat=True)) == [c.pk for c in rows]
    assert all(c.plan_id == session.plan_id and c.session_on == MONDAY for c in rows)


def test_the_days_are_a_setting(settings, hours, front_desk, doctor, record):
    settings.SAFETY_CHECK_IN_DAYS = [2]
    visit = treated(front_desk, doctor, record, MONDAY)
    assert list(SafetyCheckIn.objects.values_list("days_after", flat=True)) == [2]
    assert visit.pk == SafetyCheckIn.objects.get().appointment_id


def test_the_message_carries_a_link_that_is_not_kept_and_opens_the_question(client, session):
    check_in = first(session)
    with time_machine.travel(check_in.due_at + timedelta(minutes=1), tick=False):
        sending.send_batch(20)
    (email,) = [m for m in mail.outbox if m.subject == "How are your legs after your session?"]
    assert email.to == [session.patient.email]
    link = re.search(r"https?://\S+/portal/check-in/\S+/", email.body)[0]
    assert "/" + link.split("/", 3)[3] == link_of(check_in)
    kept = Message.objects.get(kind="check_in", topic_id=check_in.pk)
    assert kept.status == MessageStatus.SENT and link not in kept.body
    with time_machine.travel(check_in.due_at + timedelta(hours=1), tick=False):
        page = client.get(link_of(check_in)).content.decode()
    assert "How are your legs?" in page and "A hard, painful or swollen leg" in page
    assert not CheckInReply.objects.exists()  # a GET (a mail scanner) keeps nothing


def test_a_patient_who_declined_aftercare_advice_is_still_asked(session):
    patient = session.patient
    patient.consent_aftercare = False
    patient.save(update_fields=["consent_aftercare"])
    check_in = first(session)
    with time_machine.travel(check_in.due_at + timedelta(minutes=1), tick=False):
        sending.send_batch(20)
    (email,) = [m for m in mail.outbox if m.subject == "How are your legs after your session?"]
    assert "whatever messages you chose to get" in email.body
    assert "/portal/check-in/" in email.body


# --- Answers ---------------------------------------------------------------------------------


def test_fine_gets_reassurance_and_the_aftercare_advice_and_alerts_no_one(client, session):
    page = answer(client, first(session), "fine").content.decode()
    assert "Thank you: that is normal" in page and "After each session" in page
    reply = CheckInReply.objects.get()
    assert (reply.answers, reply.warning) == (["fine"], False)
    assert not Message.objects.filter(kind=check_ins.ALERT_KIND).exists()


def test_bruising_is_normal_too(client, session):
    page = answer(client, first(session), "bruising").content.decode()
    assert "Thank you: that is normal" in page
    assert not CheckInReply.objects.get().warning


def test_a_hard_painful_leg_says_call_the_clinic_and_alerts_the_treating_doctor(
    client, session, doctor
):
    page = answer(client, first(session), "hard_leg", note="left calf since yesterday")
    html = page.content.decode()
    assert "Call the clinic now" in html and PHONE in html and "blood clot" in html
    assert "Call 911 now" not in html
    reply = CheckInReply.objects.get()
    assert reply.warning and reply.note == "left calf since yesterday"
    alert = Message.objects.get(kind=check_ins.ALERT_KIND)
    assert (alert.staff, alert.topic_id) == (doctor, reply.pk)
    sending.send_batch(20)
    (email,) = [m for m in mail.outbox if m.to == [doctor.email]]
    assert "A hard, painful or swollen leg" in email.body
    assert session.patient.legal_last_name not in email.body  # mail leaves the clinic
    entry = AuditEntry.objects.get(subject="safety check-in", patient=session.patient)
    assert entry.details["answers"] == ["hard_leg"]


def test_chest_pain_says_call_911(client, session):
    html = answer(client, first(session), "chest").content.decode()
    assert "Call 911 now" in html and 'href="tel:911"' in html
    assert CheckInReply.objects.get().warning


@pytest.mark.parametrize("sign", ["sore", "vision"])
def test_the_other_warning_signs_say_call_the_clinic(client, session, sign):
    html = answer(client, first(session), sign).content.decode()
    assert "Call the clinic now" in html and PHONE in html
    assert Message.objects.filter(kind=check_ins.ALERT_KIND).count() == 1


def test_answering_twice_keeps_both_answers_and_a_double_tap_keeps_one(client, session):
    check_in = first(session)
    path = link_of(check_in)
    token = client.get(path).context["form"].initial["form_token"]
    for _ in range(2):
        client.post(path, {"answers": ["fine"], "form_token": token})
    assert CheckInReply.objects.count() == 1
    answer(client, check_in, "hard_leg")
    assert list(CheckInReply.objects.values_list("answers", flat=True)) == [["hard_leg"], ["fine"]]
    page = client.get(path).content.decode()
    assert "You answered before" in page


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"answers": []},
        {"answers": ["fine", "chest"]},
        {"answers": ["nonsense"]},
        {"answers": ["fine"], "note": "x" * 1001},
        {"answers": ["fine"], "note": "A\x00B"},
        {"answers": ["fine"], "form_token": "not-a-uuid"},
    ],
)
def test_bad_answers_show_the_question_again_and_keep_nothing(client, session, data):
    response = client.post(link_of(first(session)), data)
    assert response.status_code == 200
    assert "How are your legs?" in response.content.decode()
    assert (
        not CheckInReply.objects.exists()
        and not AuditEntry.objects.filter(subject="safety check-in").exists()
    )


@pytest.mark.parametrize("token", ["x", "0" * 64, "not.a-token_~", "a" * 500])
def test_a_forged_link_says_so_with_the_clinics_phone_and_changes_nothing(client, session, token):
    for method in (client.get, client.post):
        page = method(reverse("portal:check_in", args=[token]), {"answers": ["chest"]})
        assert page.status_code == 404
        html = page.content.decode()
        assert "This link does not work" in html and PHONE in html and "911" in html
    assert not CheckInReply.objects.exists()


def test_an_expired_link_says_so_and_changes_nothing(client, session):
    check_in = first(session)
    with time_machine.travel(check_in.expires_at + timedelta(minutes=1), tick=False):
        page = client.post(link_of(check_in), {"answers": ["hard_leg"]})
    assert page.status_code == 410
    assert "This link has expired" in page.content.decode() and PHONE in page.content.decode()
    assert not CheckInReply.objects.exists()


def test_the_forged_link_page_answers_before_any_office_is_set_up(client, db):
    page = client.get(reverse("portal:check_in", args=["x"]))
    assert page.status_code == 404 and "call 911" in page.content.decode().lower()


# --- The doctors' home -----------------------------------------------------------------------


def test_a_warning_stays_on_the_doctors_home_until_a_doctor_says_what_was_done(
    client, session, doctor, other_doctor
):
    answer(client, first(session), "hard_leg")
    reply = CheckInReply.objects.get()
    client.force_login(other_doctor)  # the treating doctor may be away: every doctor sees it
    home = client.get(reverse("doctor_home")).content.decode()
    assert "Warning signs from the safety check-in" in home
    assert session.patient.full_name in home and "treated by Dr" in home
    handle = reverse("treatments:check_in_handle", args=[reply.pk])
    response = client.post(handle, {"note": "Called her; seen today, ultrasound booked."})
    assert response.status_code == 302
    reply.refresh_from_db()
    assert (reply.handled_by, reply.handled_note) == (
        other_doctor,
        "Called her; seen today, ultrasound booked.",
    )
    assert reply.handled_at is not None
    assert (
        "Warning signs from the safety check-in"
        not in client.get(reverse("doctor_home")).content.decode()
    )
    alert = Message.objects.get(kind=check_ins.ALERT_KIND)
    assert alert.status == MessageStatus.CANCELLED  # still waiting: withdrawn
    follow = client.post(handle, {"note": "again"}, follow=True).content.decode()
    assert "This was handled already." in follow
    assert AuditEntry.objects.filter(subject="safety check-in", user=other_doctor).count() == 1


@pytest.mark.parametrize("data", [{}, {"note": ""}, {"note": "   "}, {"note": "x" * 1001}])
def test_handling_needs_what_was_done(client, session, doctor, data):
    answer(client, first(session), "sore")
    reply = CheckInReply.objects.get()
    client.force_login(doctor)
    client.post(reverse("treatments:check_in_handle", args=[reply.pk]), data)
    reply.refresh_from_db()
    assert reply.handled_at is None


def test_only_a_doctor_handles_a_warning(client, session, front_desk, patient):
    answer(client, first(session), "sore")
    reply = CheckInReply.objects.get()
    url = reverse("treatments:check_in_handle", args=[reply.pk])
    for user in (front_desk, patient):
        client.force_login(user)
        assert client.post(url, {"note": "done"}).status_code in (403, 404)
    client.logout()
    assert client.post(url, {"note": "done"}).status_code == 302  # to the login page
    client.force_login(UserFactory(username="dr.x", role="doctor"))
    assert (
        client.post(reverse("treatments:check_in_handle", args=[999999]), {"note": "x"}).status_code
        == 404
    )
    reply.refresh_from_db()
    assert reply.handled_at is None


# --- No answer: the front desk calls ---------------------------------------------------------


def test_no_answer_after_two_days_is_listed_for_the_front_desk_to_call(client, session, front_desk):
    check_in = first(session)
    client.force_login(front_desk)
    with time_machine.travel(check_in.due_at + timedelta(hours=47), tick=False):
        client.force_login(front_desk)
        assert (
            "Safety check-ins with no answer"
            not in client.get(reverse("frontdesk_home")).content.decode()
        )
    with time_machine.travel(check_in.due_at + timedelta(hours=49), tick=False):
        client.force_login(front_desk)
        home = client.get(reverse("frontdesk_home")).content.decode()
        assert "Safety check-ins with no answer" in home and session.patient.full_name in home
        url = reverse("scheduling:check_in_called", args=[check_in.pk])
        client.post(url, {"note": "Legs fine, she forgot to answer."})
        home = client.get(reverse("frontdesk_home")).content.decode()
        assert "Safety check-ins with no answer" not in home
        again = client.post(url, {"note": "twice"}, follow=True).content.decode()
        assert "Someone has recorded a call about this already." in again
    check_in.refresh_from_db()
    assert (check_in.called_by, check_in.call_note) == (
        front_desk,
        "Legs fine, she forgot to answer.",
    )


def test_an_answer_takes_the_check_in_off_the_list(client, session):
    check_in = first(session)
    answer(client, check_in, "fine")
    later = check_in.due_at + timedelta(days=3)
    assert check_in not in check_ins.not_answered(now=later)
    # The week-after one, not answered, is listed in its turn.
    week = SafetyCheckIn.objects.get(appointment_id=session.pk, days_after=7)
    assert list(check_ins.not_answered(now=week.due_at + timedelta(days=3))) == [week]


def test_only_staff_record_a_call(client, session, patient):
    check_in = first(session)
    client.force_login(patient)
    response = client.post(reverse("scheduling:check_in_called", args=[check_in.pk]), {"note": "x"})
    assert response.status_code in (403, 404)
    check_in.refresh_from_db()
    assert check_in.called_at is None


# --- The chart of the next session -----------------------------------------------------------


def test_what_the_patient_said_shows_on_the_chart_of_the_next_session(
    client, session, doctor, front_desk, record
):
    answer(client, first(session), "bruising", note="a little sore")
    plan = session.plan
    with time_machine.travel(at(MONDAY + timedelta(days=28), 8), tick=False):
        client.force_login(doctor)
        page = client.get(reverse("treatments:chart_create", args=[record.pk, plan.pk]))
    client.force_login(doctor)
    assert "What the patient said after the last session" in page.content.decode()
    assert "Some redness or bruising" in page.content.decode()
    # The chart of the first session shows nothing said before it; the next one does.
    earlier = chart_session(plan, doctor, treated_on=MONDAY)
    detail = client.get(reverse("treatments:chart", args=[record.pk, earlier.pk])).content.decode()
    assert "a little sore" not in detail
    chart = chart_session(plan, doctor, treated_on=MONDAY + timedelta(days=28))
    detail = client.get(reverse("treatments:chart", args=[record.pk, chart.pk])).content.decode()
    assert "a little sore" in detail


# --- Guards (committing, two connections) ----------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_doctors_handling_at_once_handle_once(hours, front_desk, doctor, record):
    """The reply's row is locked: without it both see it open and both write their note."""
    from django.db import connection

    from goodskin.actors import Actor
    from goodskin.roles import Role

    visit = treated(front_desk, doctor, record, MONDAY)
    check_in = SafetyCheckIn.objects.get(appointment_id=visit.pk, days_after=1)
    reply = check_ins.answer(check_in=check_in, answers=["hard_leg"])
    connection.close()
    by = Actor(user=doctor, role=Role.DOCTOR)

    def handle():
        return check_ins.handle(reply_id=reply.pk, note="called", by=by)

    holder, contender, waited = contend(handle, handle)
    assert isinstance(holder, CheckInReply), holder
    assert str(contender) == "This was handled already.", contender
    assert waited
    assert AuditEntry.objects.filter(subject="safety check-in", user=doctor).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_calls_recorded_at_once_are_recorded_once(hours, front_desk, doctor, record):
    """The check-in's row is locked: without it the second note overwrites the first."""
    from django.db import connection

    from goodskin.actors import Actor
    from goodskin.roles import Role

    visit = treated(front_desk, doctor, record, MONDAY)
    check_in = SafetyCheckIn.objects.get(appointment_id=visit.pk, days_after=1)
    connection.close()
    by = Actor(user=front_desk, role=Role.FRONT_DESK)

    def call():
        return check_ins.record_call(check_in_id=check_in.pk, note="called", by=by)

    holder, contender, waited = contend(call, call)
    assert isinstance(holder, SafetyCheckIn), holder
    assert str(contender) == "Someone has recorded a call about this already.", contender
    assert waited


@pytest.mark.django_db(transaction=True)
def test_an_answer_is_kept_with_its_alert_or_not_at_all(
    hours, front_desk, doctor, record, monkeypatch
):
    """One transaction: when the audit entry fails, neither the answer nor the alert stays
    (without it the answer would be kept and the doctor never alerted)."""
    visit = treated(front_desk, doctor, record, MONDAY)
    check_in = SafetyCheckIn.objects.get(appointment_id=visit.pk, days_after=1)

    def broken(**kwargs):
        raise RuntimeError("audit down")

    monkeypatch.setattr(check_ins.audit, "record", broken)
    with pytest.raises(RuntimeError):
        check_ins.answer(check_in=check_in, answers=["chest"])
    assert not CheckInReply.objects.exists()
    assert not Message.objects.filter(kind=check_ins.ALERT_KIND).exists()
