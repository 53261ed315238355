"""A small clinic whose numbers are known, in the two weeks before the frozen Monday
(November 30, 2026): two offices, two doctors, and every kind of row a report counts."""

import itertools
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest

from goodskin import tokens
from goodskin.roles import Role
from messaging.models import Message, MessageStatus
from scheduling.models import (
    Appointment,
    Kind,
    Location,
    OfferStatus,
    Opening,
    OpeningReason,
    Room,
    Status,
    WaitlistEntry,
    WaitlistOffer,
)
from scheduling.reminders import Topic
from tests.factories import PatientFactory, UserFactory
from tests.scheduling.conftest import MONDAY, TZ, at, now, office  # noqa: F401 - fixtures
from treatments.models import AdverseEvent, Consultation, PlanStatus, TreatmentPlan

WEEK_1 = MONDAY - timedelta(weeks=2)  # November 16
WEEK_2 = MONDAY - timedelta(weeks=1)  # November 23


@dataclass
class Clinic:
    office: Location
    east: Location
    doctor: object
    other: object
    plan: TreatmentPlan = None
    visits: dict = field(default_factory=dict)


class Calendar:
    """Appointments each at a time of its own (no two overlap for a doctor, room or patient)."""

    def __init__(self):
        self.slots = itertools.count()

    def book(self, week, *, doctor, location, kind, status, patient=None, plan=None, late=False):
        n = next(self.slots)
        day = week + timedelta(days=n % 5)
        starts = at(day, 8 + (n // 5) % 9, 0)
        return Appointment.objects.create(
            patient=patient or PatientFactory(),
            doctor=doctor,
            location=location,
            room=location.rooms.first(),
            kind=kind,
            plan=plan,
            session_number=1 if plan else None,
            starts_at=starts,
            ends_at=starts + timedelta(minutes=20),
            status=status,
            late_cancel=late,
        )


def consultation(patient, doctor, held_on):
    return Consultation.objects.create(
        patient=patient,
        doctor=doctor,
        held_on=held_on,
        ceap_right="C1",
        ceap_left="C1",
        decision="eligible",
    )


def plan_of(consultation_row, *, status=PlanStatus.COMPLETED, ended=None):
    return TreatmentPlan.objects.create(
        patient=consultation_row.patient,
        doctor=consultation_row.doctor,
        consultation=consultation_row,
        sessions_planned=4,
        interval_weeks=4,
        hose_days=14,
        session_minutes=20,
        status=status,
        completed_at=ended if status == PlanStatus.COMPLETED else None,
        stopped_at=ended if status == PlanStatus.STOPPED else None,
        stop_reason="Moved away" if status == PlanStatus.STOPPED else "",
    )


def message(n, *, status, due, topic="", topic_id=None):
    return Message.objects.create(
        key=f"report-test-{n}",
        patient=PatientFactory(),
        kind="reminder",
        channel="email",
        topic=topic,
        topic_id=topic_id,
        due_at=due,
        give_up_at=due + timedelta(days=1),
        status=status,
    )


@pytest.fixture
def clinic(now, office):  # noqa: F811 - the fixture imported above
    return build_clinic(office, MONDAY)


def build_clinic(oregon, monday) -> Clinic:
    """In the two weeks before `monday`. Week 2, Dr Lee at the Oregon office: 10 visits due (6
    sessions done, 3 no-shows, 1 late cancellation) and one cancelled in good time. Week 1, Dr
    Ray at the East office: 2 touch-ups done, a consultation done, a no-show."""
    week_1, week_2 = monday - timedelta(weeks=2), monday - timedelta(weeks=1)
    east = Location.objects.create(name="East office", time_zone=TZ.key)
    Room.objects.create(location=east, name="East 1")
    doctor = UserFactory(username="dr.lee", first_name="Lee", last_name="Chan", role=Role.DOCTOR)
    other = UserFactory(username="dr.ray", first_name="Ray", last_name="Diaz", role=Role.DOCTOR)
    c = Clinic(office=oregon, east=east, doctor=doctor, other=other)
    cal = Calendar()
    lee = {"doctor": doctor, "location": oregon}
    ray = {"doctor": other, "location": east}

    # The plan whose sessions these are, made at a consultation a year ago.
    treated = PatientFactory()
    c.plan = plan_of(
        consultation(treated, doctor, monday - timedelta(days=365)), status=PlanStatus.ACTIVE
    )
    for _ in range(6):
        cal.book(week_2, kind=Kind.SESSION, status=Status.COMPLETED, plan=c.plan, **lee)
    for _ in range(3):
        cal.book(week_2, kind=Kind.REVIEW, status=Status.NO_SHOW, **lee)
    c.visits["late"] = cal.book(week_2, kind=Kind.REVIEW, status=Status.CANCELLED, late=True, **lee)
    cal.book(week_2, kind=Kind.REVIEW, status=Status.CANCELLED, **lee)
    for _ in range(2):
        cal.book(week_1, kind=Kind.TOUCH_UP, status=Status.COMPLETED, **ray)
    cal.book(week_1, kind=Kind.REVIEW, status=Status.NO_SHOW, **ray)

    # New patients (East, Dr Ray): X first seen in week 1 and again in week 2; Y first seen in
    # week 2; Z seen a year ago (Oregon), again in week 2 (not new).
    x, y, z = PatientFactory(), PatientFactory(), PatientFactory()
    cal.book(week_1, kind=Kind.CONSULTATION, status=Status.COMPLETED, patient=x, **ray)
    for patient in (x, y, z):
        cal.book(week_2, kind=Kind.CONSULTATION, status=Status.COMPLETED, patient=patient, **ray)
    Appointment.objects.create(
        patient=z,
        doctor=doctor,
        location=oregon,
        room=oregon.rooms.first(),
        kind=Kind.CONSULTATION,
        starts_at=at(monday - timedelta(days=365), 9),
        ends_at=at(monday - timedelta(days=365), 9, 30),
        status=Status.COMPLETED,
    )
    # (The consultations count as visits due too: 13 in week 2 at both offices.)

    # Consultations in week 2 by Dr Lee: 4, of which 3 became plans (2 completed, 1 stopped,
    # all ending in week 2). X's, on the day of X's consultation visit at the East office.
    x_visit = Appointment.objects.get(patient=x, starts_at__gte=at(week_2, 0))
    held = [consultation(x, doctor, x_visit.starts_at.astimezone(TZ).date())]
    held += [consultation(PatientFactory(), doctor, week_2 + timedelta(days=1)) for _ in range(3)]
    ended = at(week_2 + timedelta(days=2), 12)
    plan_of(held[0], ended=ended)
    plan_of(held[1], ended=ended)
    plan_of(held[2], status=PlanStatus.STOPPED, ended=ended)

    # Adverse events on the treated plan (after its sessions): 2 bruising, 1 DVT.
    for kind in ("bruising", "bruising", "dvt"):
        AdverseEvent.objects.create(
            plan=c.plan,
            type=kind,
            onset_on=week_2 + timedelta(days=6),
            severity="mild",
            reported_by=doctor,
        )

    # Waitlist: 3 times freed at the Oregon office in week 2, one filled (2 offers: one
    # accepted, one declined).
    openings = [
        Opening.objects.create(
            doctor=doctor,
            location=oregon,
            starts_at=at(monday + timedelta(days=3), 9 + n),
            ends_at=at(monday + timedelta(days=3), 10 + n),
            reason=OpeningReason.CANCELLED,
            created_at=at(week_2 + timedelta(days=n), 12),
        )
        for n in range(3)
    ]
    for n, status in enumerate((OfferStatus.ACCEPTED, OfferStatus.DECLINED)):
        entry = WaitlistEntry.objects.create(
            patient=PatientFactory(), kind=Kind.CONSULTATION, not_before=week_2
        )
        nonce = uuid.uuid4()
        WaitlistOffer.objects.create(
            opening=openings[0],
            entry=entry,
            starts_at=openings[0].starts_at,
            ends_at=openings[0].ends_at,
            status=status,
            nonce=nonce,
            token_hash=tokens.digest(str(nonce)),
            sent_at=at(week_2 + timedelta(days=1), 12 + n),
            expires_at=at(week_2 + timedelta(days=1), 14 + n),
        )

    # Messages due in week 2: 4 sent, 1 failed, 1 still waiting; 2 sent and the failed one
    # are about the late-cancelled visit (Oregon, Dr Lee).
    due = at(week_2 + timedelta(days=2), 9)
    late_id = c.visits["late"].pk
    message(1, status=MessageStatus.SENT, due=due, topic=Topic.APPOINTMENT, topic_id=late_id)
    message(2, status=MessageStatus.SENT, due=due, topic=Topic.APPOINTMENT, topic_id=late_id)
    message(3, status=MessageStatus.SENT, due=due)
    message(4, status=MessageStatus.SENT, due=due)
    message(5, status=MessageStatus.FAILED, due=due, topic=Topic.APPOINTMENT, topic_id=late_id)
    message(6, status=MessageStatus.PENDING, due=due)
    return c


def week_row(report, monday: date):
    return next(row for row in report.rows if row.key == monday.isoformat())
