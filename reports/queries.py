"""The numbers behind each report: each is one or two aggregate queries grouped by week (or by
kind) in PostgreSQL, whatever the length of the period, and returns counts only: no row of a
patient leaves the database.

Where a count is narrowed to an office or a doctor:
- visits (sessions, no-shows, new patients): the appointment's office and doctor;
- consultations: the doctor who held it; the office of that day's consultation visit;
- plans: the plan's doctor; an office where one of its sessions took place;
- adverse events: the office and doctor of the plan's last session on or before the day the
  event began (the plan's doctor when it had none);
- freed times and waitlist offers: the freed time's office and doctor;
- messages: with an office or a doctor chosen, only the messages about an appointment count,
  by that appointment's office and doctor (the others are about no office: staff alerts,
  online booking links, plans)."""

from collections import defaultdict
from datetime import date

from django.db.models import Case, Count, Exists, IntegerField, OuterRef, Q, Subquery, Sum, When
from django.db.models.functions import Coalesce, TruncWeek
from django.utils import timezone

from messaging.models import Message, MessageStatus
from scheduling.models import Appointment, Kind, OfferStatus, Opening, Status, WaitlistOffer
from scheduling.reminders import Topic
from treatments.models import AdverseEvent, Consultation, PlanStatus, TreatmentPlan

from .period import Period

TREATMENT_VISITS = (Kind.SESSION, Kind.TOUCH_UP)

Weekly = dict[date, dict[str, int]]


def _by_week(rows, names: tuple[str, ...]) -> Weekly:
    weeks: Weekly = defaultdict(lambda: dict.fromkeys(names, 0))
    for row in rows:
        week = row["week"]
        week = week.date() if hasattr(week, "date") else week
        weeks[week].update({name: row[name] or 0 for name in names if name in row})
    return weeks


def _week(field: str, period: Period) -> TruncWeek:
    return TruncWeek(field, tzinfo=period.zone)


def _visits(period: Period):
    """Appointments that start in the period, at the office and with the doctor chosen."""
    visits = Appointment.objects.filter(
        starts_at__gte=period.starts_at, starts_at__lt=period.ends_at
    )
    if period.office:
        visits = visits.filter(location=period.office)
    if period.doctor:
        visits = visits.filter(doctor=period.doctor)
    return visits


def sessions(period: Period) -> Weekly:
    rows = (
        _visits(period)
        .filter(kind__in=TREATMENT_VISITS, status=Status.COMPLETED)
        .annotate(week=_week("starts_at", period))
        .values("week")
        .annotate(
            sessions=Count("id", filter=Q(kind=Kind.SESSION)),
            touch_ups=Count("id", filter=Q(kind=Kind.TOUCH_UP)),
        )
    )
    return _by_week(rows, ("sessions", "touch_ups"))


def new_patients(period: Period) -> Weekly:
    """Patients at their first consultation that took place: no earlier one was completed."""
    earlier = Appointment.objects.filter(
        patient=OuterRef("patient"),
        kind=Kind.CONSULTATION,
        status=Status.COMPLETED,
        starts_at__lt=OuterRef("starts_at"),
    )
    rows = (
        _visits(period)
        .filter(kind=Kind.CONSULTATION, status=Status.COMPLETED)
        .filter(~Exists(earlier))
        .annotate(week=_week("starts_at", period))
        .values("week")
        .annotate(new_patients=Count("patient", distinct=True))
    )
    return _by_week(rows, ("new_patients",))


def consultations(period: Period) -> Weekly:
    held = Consultation.objects.filter(held_on__gte=period.first_day, held_on__lte=period.last_day)
    if period.doctor:
        held = held.filter(doctor=period.doctor)
    if period.office:
        # The consultation visit of that patient on that day (in the clinic's zone).
        held = held.filter(
            Exists(
                Appointment.objects.filter(
                    patient=OuterRef("patient"),
                    kind=Kind.CONSULTATION,
                    location=period.office,
                    starts_at__date=OuterRef("held_on"),
                ).exclude(status=Status.CANCELLED)
            )
        )
    plans = TreatmentPlan.objects.filter(consultation=OuterRef("pk"))
    rows = (
        held.annotate(week=TruncWeek("held_on"))
        .values("week")
        .annotate(
            consultations=Count("id"),
            plans=Sum(Case(When(Exists(plans), then=1), default=0, output_field=IntegerField())),
        )
    )
    return _by_week(rows, ("consultations", "plans"))


def plans_ended(period: Period) -> Weekly:
    """Plans completed or stopped in each week (a plan ends one way only)."""
    ended = Coalesce("completed_at", "stopped_at")
    plans = TreatmentPlan.objects.annotate(ended_at=ended).filter(
        status__in=(PlanStatus.COMPLETED, PlanStatus.STOPPED),
        ended_at__gte=period.starts_at,
        ended_at__lt=period.ends_at,
    )
    if period.doctor:
        plans = plans.filter(doctor=period.doctor)
    if period.office:
        plans = plans.filter(
            Exists(
                Appointment.objects.filter(
                    plan=OuterRef("pk"), location=period.office, status=Status.COMPLETED
                )
            )
        )
    rows = (
        plans.annotate(week=_week("ended_at", period))
        .values("week")
        .annotate(
            completed=Count("id", filter=Q(status=PlanStatus.COMPLETED)),
            stopped=Count("id", filter=Q(status=PlanStatus.STOPPED)),
        )
    )
    return _by_week(rows, ("completed", "stopped"))


def attendance(period: Period) -> Weekly:
    """Visits due in each week until now (all but those cancelled in good time: a visit still
    to come is not yet due), the no-shows and the late cancellations among them."""
    late = Q(status=Status.CANCELLED, late_cancel=True)
    rows = (
        _visits(period)
        .filter(starts_at__lt=timezone.now())
        .filter(~Q(status=Status.CANCELLED) | late)
        .annotate(week=_week("starts_at", period))
        .values("week")
        .annotate(
            due=Count("id"),
            no_shows=Count("id", filter=Q(status=Status.NO_SHOW)),
            late_cancels=Count("id", filter=late),
        )
    )
    return _by_week(rows, ("due", "no_shows", "late_cancels"))


def waitlist(period: Period) -> Weekly:
    """Times freed in each week and those a waiting patient took; offers sent and accepted."""
    chosen = {}
    if period.office:
        chosen["location"] = period.office
    if period.doctor:
        chosen["doctor"] = period.doctor
    accepted = WaitlistOffer.objects.filter(opening=OuterRef("pk"), status=OfferStatus.ACCEPTED)
    freed = (
        Opening.objects.filter(**chosen)
        .filter(created_at__gte=period.starts_at, created_at__lt=period.ends_at)
        .annotate(week=_week("created_at", period))
        .values("week")
        .annotate(
            freed=Count("id"),
            filled=Sum(
                Case(When(Exists(accepted), then=1), default=0, output_field=IntegerField())
            ),
        )
    )
    weeks = _by_week(freed, ("freed", "filled", "offers", "accepted"))
    offers = (
        WaitlistOffer.objects.filter(**{f"opening__{key}": value for key, value in chosen.items()})
        .filter(sent_at__gte=period.starts_at, sent_at__lt=period.ends_at)
        .annotate(week=_week("sent_at", period))
        .values("week")
        .annotate(offers=Count("id"), accepted=Count("id", filter=Q(status=OfferStatus.ACCEPTED)))
    )
    for row in offers:
        week = weeks[row["week"].date()]
        week["offers"], week["accepted"] = row["offers"], row["accepted"]
    return weeks


def adverse_events(period: Period) -> tuple[dict[str, int], int]:
    """Events that began in the period, by kind, and the treatment sessions done in it."""
    events = AdverseEvent.objects.filter(
        onset_on__gte=period.first_day, onset_on__lte=period.last_day
    )
    if period.office or period.doctor:
        last_session = Appointment.objects.filter(
            plan=OuterRef("plan"),
            kind__in=TREATMENT_VISITS,
            status=Status.COMPLETED,
            starts_at__date__lte=OuterRef("onset_on"),
        ).order_by("-starts_at")
        events = events.annotate(
            office=Subquery(last_session.values("location")[:1]),
            by=Coalesce(
                Subquery(last_session.values("doctor")[:1]),
                "plan__doctor",
                output_field=IntegerField(),
            ),
        )
        if period.office:
            events = events.filter(office=period.office.pk)
        if period.doctor:
            events = events.filter(by=period.doctor.pk)
    by_kind = dict(events.values("type").annotate(n=Count("id")).values_list("type", "n"))
    done = (
        _visits(period)
        .filter(kind__in=TREATMENT_VISITS, status=Status.COMPLETED)
        .aggregate(n=Count("id"))["n"]
    )
    return by_kind, done


def messages(period: Period) -> Weekly:
    """Messages that fell due in each week and were sent, or given up."""
    rows = Message.objects.filter(
        due_at__gte=period.starts_at,
        due_at__lt=period.ends_at,
        status__in=(MessageStatus.SENT, MessageStatus.FAILED),
    )
    if period.office or period.doctor:
        about = Appointment.objects.filter(pk=OuterRef("topic_id"))
        if period.office:
            about = about.filter(location=period.office)
        if period.doctor:
            about = about.filter(doctor=period.doctor)
        rows = rows.filter(Q(topic=Topic.APPOINTMENT) & Exists(about))
    rows = (
        rows.annotate(week=_week("due_at", period))
        .values("week")
        .annotate(
            sent=Count("id", filter=Q(status=MessageStatus.SENT)),
            failed=Count("id", filter=Q(status=MessageStatus.FAILED)),
        )
    )
    return _by_week(rows, ("sent", "failed"))
