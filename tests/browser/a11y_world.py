"""A clinic with something on every page, for the accessibility walk
(test_accessibility_browser.py): the demo data (seed_demo: patients, consultations, plans at
every stage, charts, an adverse event, a week of visits) and, on top of it, what the demo leaves
out: a serious adverse event that alerts, a waitlist with an offer, time off, an online request,
safety check-ins (one with a warning sign, one never answered, one waiting), messages sent and
one given up, and a portal invitation. Every page of the walk gets its ids and tokens from
`World`."""

import io
import re
from dataclasses import dataclass, field
from datetime import time, timedelta
from urllib.parse import urlsplit

from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.core.management import call_command
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from goodskin.actors import Actor
from goodskin.roles import Role
from messaging import outbox, sending
from messaging.models import Message, MessageStatus
from patients import services as patient_services
from patients.models import Patient, Purpose
from patients.screening import QUESTIONS
from scheduling import services
from scheduling.models import (
    Appointment,
    Kind,
    Location,
    Status,
    TimeOff,
    WaitlistOffer,
    WorkingHours,
)
from scheduling.services import waitlist
from tests.factories import PASSWORD
from treatments import check_ins
from treatments import services as treatment_services
from treatments.models import (
    AdverseEvent,
    AdverseEventType,
    SessionChart,
    Severity,
    TreatmentPlan,
)

DEMO = "@demo.goodskin.test"


@dataclass
class World:
    users: dict = field(default_factory=dict)  # role: the user the walk logs in as
    ids: dict = field(default_factory=dict)  # what a page's address needs
    tokens: dict = field(default_factory=dict)  # public pages' links, by URL name


def patient(username: str) -> Patient:
    return Patient.objects.get(email=f"{username}{DEMO}")


def build() -> World:
    call_command("seed_demo", allow_production=True, stdout=io.StringIO())
    User = get_user_model()
    for user in User.objects.all():
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
    world = World(
        users={
            Role.FRONT_DESK: User.objects.get(username="frontdesk"),
            Role.DOCTOR: User.objects.get(username="dr.nguyen"),
            Role.ADMIN: User.objects.get(username="admin"),
            Role.PATIENT: User.objects.get(username="maria.garcia"),
        }
    )
    desk = Actor(user=world.users[Role.FRONT_DESK], role=Role.FRONT_DESK, ip="127.0.0.1")
    maria = patient("maria.garcia")
    plan = TreatmentPlan.objects.filter(patient=maria).get()
    chart = SessionChart.objects.filter(plan=plan).order_by("number").first()
    event = _serious_event(world, plan, chart)
    office = Location.objects.order_by("pk").first()
    upcoming = (
        Appointment.objects.filter(patient=maria, status=Status.BOOKED)
        .order_by("starts_at")
        .first()
    )
    world.ids.update(
        patient=maria.pk,
        plan=plan.pk,
        consultation=plan.consultation_id,
        chart=chart.pk,
        area=chart.areas.order_by("pk").first().pk,
        event=event.pk,
        event_patient=event.plan.patient_id,
        appointment=upcoming.pk,
        office=office.pk,
        hours=WorkingHours.objects.filter(location=office).order_by("pk").first().pk,
        duplicate=patient("catherine.anderson").pk,
    )
    world.ids["checked_in"] = (
        Appointment.objects.filter(status=Status.CHECKED_IN).values_list("pk", flat=True).first()
    )
    _time_off(world)
    _waitlist(world, desk, maria)
    _check_ins(world, plan)
    _messages(world, maria)
    _invitation(world, desk)
    _online_request(world)
    world.tokens["messaging:unsubscribe"] = urlsplit(
        outbox.unsubscribe_url(maria.pk, "email", Purpose.REMINDERS)
    ).path
    account = world.users[Role.PATIENT]
    world.tokens["password_reset_confirm"] = reverse(
        "password_reset_confirm",
        args=[
            urlsafe_base64_encode(force_bytes(account.pk)),
            default_token_generator.make_token(account),
        ],
    )
    return world


def _serious_event(world: World, plan: TreatmentPlan, chart: SessionChart) -> AdverseEvent:
    """A suspected DVT on the walking doctor's own plan: it alerts, and stays on their home."""
    return treatment_services.report_adverse_event(
        plan=plan,
        data={
            "chart": chart,
            "type": AdverseEventType.SUSPECTED_DVT,
            "onset_on": timezone.localdate() - timedelta(days=1),
            "severity": Severity.SEVERE,
            "region": "R-calf-posterior",
            "management": "Sent for a duplex scan today.",
            "follow_up_needed": True,
        },
        by=Actor(user=world.users[Role.DOCTOR], role=Role.DOCTOR, ip="127.0.0.1"),
    )


def _time_off(world: World) -> None:
    doctor = world.users[Role.DOCTOR]
    start = timezone.now() + timedelta(days=20)
    block = TimeOff.objects.create(
        doctor=doctor, starts_at=start, ends_at=start + timedelta(hours=4), reason="Training"
    )
    world.ids["time_off"] = block.pk


def _waitlist(world: World, desk: Actor, maria: Patient) -> None:
    """Katherine waits for a consultation, Maria for a review; a visit freed in two days is
    offered to Katherine."""
    entry = waitlist.add_to_waitlist(
        patient=patient("katherine.andersen"),
        wish=waitlist.Wish(kind=Kind.CONSULTATION, not_before=timezone.localdate()),
        by=desk,
    )
    world.ids["waitlist_entry"] = entry.pk
    mine = waitlist.add_to_waitlist(
        patient=maria,
        wish=waitlist.Wish(kind=Kind.REVIEW, not_before=timezone.localdate() + timedelta(days=1)),
        by=desk,
    )
    world.ids["my_waitlist_entry"] = mine.pk
    doctor = world.users[Role.DOCTOR]
    day = timezone.localdate() + timedelta(days=2)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    from scheduling.clock import instant, zone

    office = Location.objects.order_by("pk").first()
    freed = services.book_appointment(
        patient=patient("elizabeth.brown"),
        doctor=doctor,
        kind=Kind.CONSULTATION,
        starts_at=instant(day, time(15, 30), zone(office.time_zone)),
        by=desk,
    )
    services.cancel_appointment(appointment=freed, by=desk, cancelled_by="clinic", reason="ill")
    with override_settings(WAITLIST_OFFER_FROM_HOUR=0, WAITLIST_OFFER_UNTIL_HOUR=24):
        waitlist.offer_openings()
    offer = WaitlistOffer.objects.order_by("-pk").first()
    if offer is not None:
        world.tokens["portal:waitlist_offer"] = reverse(
            "portal:waitlist_offer", args=[waitlist.token_for(offer.nonce)]
        )


def _check_ins(world: World, plan: TreatmentPlan) -> None:
    """One check-in answered with a warning sign (on the doctors' homes), one never answered
    (on the desk's), and one waiting for the patient (its link)."""
    visits = list(plan.appointments.order_by("starts_at").values_list("pk", flat=True))
    now = timezone.now()
    warned = check_ins.create(
        plan=plan, appointment_id=visits[0], session_on=timezone.localdate() - timedelta(days=1),
        days_after=1, due_at=now - timedelta(hours=3),
    )  # fmt: skip
    check_ins.answer(check_in=warned, answers=["hard_leg"])
    check_ins.create(
        plan=plan, appointment_id=visits[0], session_on=timezone.localdate() - timedelta(days=7),
        days_after=7, due_at=now - timedelta(days=3),
    )  # fmt: skip
    waiting = check_ins.create(
        plan=plan, appointment_id=visits[1], session_on=timezone.localdate(),
        days_after=1, due_at=now - timedelta(minutes=5),
    )  # fmt: skip
    world.ids["check_in"] = warned.pk
    world.tokens["portal:check_in"] = reverse(
        "portal:check_in", args=[check_ins.token_for(waiting.nonce)]
    )


def _messages(world: World, maria: Patient) -> None:
    """What is due goes out; one of Maria's is given up (her record's messages page lists it
    with its buttons)."""
    sending.send_batch(100)
    Message.objects.filter(pk=Message.objects.filter(patient=maria).order_by("pk")[:1]).update(
        status=MessageStatus.FAILED, last_error="550 mailbox unavailable"
    )


def _invitation(world: World, desk: Actor) -> None:
    links = []
    patient_services.invite_to_portal(
        patient=patient("patricia.nguyen"), by=desk, link_for=links.append
    )
    world.tokens["portal:open_account"] = reverse("portal:open_account", args=links)


def _online_request(world: World) -> None:
    """Someone asks for a consultation on the public page; the link is in the email."""
    client = Client()
    page = client.get(reverse("portal:book"))
    form = page.context["form"]
    mail.outbox = []
    client.post(
        reverse("portal:book"),
        {
            "starts_at": next(iter(form.options)),
            "legal_first_name": "Marisol",
            "legal_last_name": "Quintero",
            "date_of_birth": "1984-03-09",
            "email": "marisol.q@example.net",
            "phone": "+15035550142",
            "consent_email": "on",
            "form_token": form.initial["form_token"],
            **{q.key: "no" for q in QUESTIONS},
        },
    )
    sending.send_batch(100)
    for email in mail.outbox:
        found = re.search(r"/portal/book/confirm/\S+/", email.body)
        if found:
            world.tokens["portal:book_confirm"] = found[0]
