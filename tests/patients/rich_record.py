"""A patient with something in every part of the record, made through the apps' services
where they can run inside a test's transaction (the durable ones' rows are written directly):
for the export tests of the staff pages and of the portal."""

from dataclasses import dataclass
from datetime import timedelta

from goodskin.actors import Actor
from goodskin.roles import Role
from messaging.models import Message, MessageStatus
from patients import audit
from patients.models import AuditAction, Patient
from scheduling import services as scheduling
from scheduling.models import Appointment, CalendarFeed, Kind
from tests.factories import PatientFactory, screen
from tests.scheduling.conftest import MONDAY, at, desk_actor
from tests.treatments.conftest import area, as_doctor, chart_session, make_plan
from treatments import services as treatments
from treatments.models import AdverseEventFollowUp, Clearance, SessionChart

# What the tests look for in the PDF and the JSON.
EARLIER_NOTE = "Went well"
AMENDED_NOTE = "Went well; a small bruise on the right thigh by the end"
AMENDMENT_REASON = "Bruise seen after the patient dressed"


@dataclass
class Rich:
    patient: Patient
    chart: SessionChart
    moved: Appointment
    cancelled: Appointment


def make_rich_record(*, user, front_desk, doctor, other_doctor) -> Rich:
    patient = PatientFactory(
        portal_user=user,
        legal_first_name="Rosalind",
        legal_last_name="Quintanilla",
        preferred_name="Roz",
        notes="Prefers morning visits",
        consent_email=True,
        consent_sms=True,
        address_line1="12 Alder St",
    )
    # The screening changed twice: estrogen yes, then no with a note.
    screen(patient, by=front_desk, sclerosant_allergy="no", untreated_varicose="no")
    screen(patient, by=front_desk, estrogen="yes")
    treatments_actor = as_doctor(doctor)
    from patients.services import record_screening

    record_screening(
        patient=patient,
        answers={"estrogen": ("no", "Stopped the pill in October")},
        by=Actor(user=front_desk, role=Role.FRONT_DESK, ip="10.0.0.7"),
    )
    plan = make_plan(patient, doctor, sessions=3)
    chart = chart_session(
        plan,
        doctor,
        treated_on=MONDAY - timedelta(days=14),
        areas=[area("R-thigh-anterior"), area("L-calf-medial", volume_ml=1)],
    )
    treatments.change_chart_text(
        chart=chart,
        field="notes",
        new_text=AMENDED_NOTE,
        reason=AMENDMENT_REASON,
        by=treatments_actor,
    )
    treatments.cosign_chart(chart=chart, by=as_doctor(other_doctor), note="Agree")
    Clearance.objects.create(
        plan=plan, session=2, key="estrogen", kind="acknowledgment", reason="", by=doctor
    )
    event = treatments.report_adverse_event(
        plan=plan,
        data={
            "type": "hyperpigmentation",
            "onset_on": MONDAY - timedelta(days=7),
            "severity": "mild",
            "region": "R-thigh-anterior",
            "management": "Review in 6 weeks",
            "follow_up_needed": True,
            "chart": chart,
        },
        by=treatments_actor,
    )
    AdverseEventFollowUp.objects.create(
        event=event, on=MONDAY, action="Photographed", outcome="Fading", by=doctor
    )
    desk = desk_actor(front_desk)
    moved = scheduling.book_appointment(
        patient=patient,
        doctor=doctor,
        kind=Kind.REVIEW,
        starts_at=at(MONDAY + timedelta(days=3), 10),
        by=desk,
    )
    scheduling.move_appointment(
        appointment=moved, starts_at=at(MONDAY + timedelta(days=4), 11), by=desk
    )
    cancelled = scheduling.book_appointment(
        patient=patient,
        doctor=doctor,
        kind=Kind.REVIEW,
        starts_at=at(MONDAY + timedelta(days=8), 9),
        by=desk,
    )
    scheduling.cancel_appointment(
        appointment=cancelled, by=desk, cancelled_by="patient", reason="Travelling"
    )
    # One message went out (the worker's part, written here as it records a send).
    first = Message.objects.filter(patient=patient).order_by("id").first()
    Message.objects.filter(pk=first.pk).update(
        status=MessageStatus.SENT,
        sent_at=at(MONDAY, 8),
        recipient=patient.email,
        subject="Your appointment on Friday",
        body="secret body with https://example.org/unsubscribe/abc",
    )
    CalendarFeed.objects.create(patient=patient, token="secret-feed-token-123")
    audit.record(
        actor=Actor(user=front_desk, role=Role.FRONT_DESK, ip="10.0.0.8"),
        patient=patient,
        action=AuditAction.VIEW,
        subject="patient",
    )
    # A duplicate merged into this record: its audit trail stays with it, and is exported.
    duplicate = PatientFactory(legal_first_name="Rosalind", legal_last_name="Quintanila")
    audit.record(
        actor=Actor(user=doctor, role=Role.DOCTOR, ip="10.0.0.9"),
        patient=duplicate,
        action=AuditAction.VIEW,
        subject="patient",
    )
    duplicate.merged_into = patient
    duplicate.save(update_fields=["merged_into"])
    moved.refresh_from_db()
    cancelled.refresh_from_db()
    return Rich(patient=patient, chart=chart, moved=moved, cancelled=cancelled)
