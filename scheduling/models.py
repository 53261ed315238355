"""The clinic's calendar: where and when doctors work, and the appointments in it."""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField

from goodskin import when
from patients.models import Patient
from treatments.models import TreatmentPlan

from .clock import day_bounds

User = settings.AUTH_USER_MODEL


class SchedulingSettings(models.Model):
    """One row: the front desk's numbers, changed by an administrator in the Django admin."""

    consultation_minutes = models.PositiveSmallIntegerField(
        _("consultation length (minutes)"), default=30
    )
    touch_up_minutes = models.PositiveSmallIntegerField(_("touch-up length (minutes)"), default=25)
    review_minutes = models.PositiveSmallIntegerField(
        _("follow-up review length (minutes)"), default=15
    )
    buffer_minutes = models.PositiveSmallIntegerField(
        _("minutes kept free between appointments"), default=5
    )
    slot_step_minutes = models.PositiveSmallIntegerField(
        _("free times are offered every (minutes)"), default=15
    )
    late_cancel_hours = models.PositiveSmallIntegerField(
        _("a cancellation is late under this many hours before"), default=24
    )
    first_reminder_hours = models.PositiveSmallIntegerField(
        _("first reminder, hours before an appointment"), default=48
    )
    second_reminder_hours = models.PositiveSmallIntegerField(
        _("second reminder, hours before an appointment"), default=2
    )
    patient_notice_hours = models.PositiveSmallIntegerField(
        _("patients may cancel or move online up to this many hours before"), default=24
    )
    touch_up_hour = models.PositiveSmallIntegerField(
        _("touch-up invitations go out at this hour (clinic time)"), default=10
    )

    class Meta:
        verbose_name = _("scheduling settings")
        verbose_name_plural = _("scheduling settings")

    def __str__(self) -> str:
        return str(_("Scheduling settings"))

    @classmethod
    def current(cls) -> "SchedulingSettings":
        """The settings row, read (a use case reads it once and passes it on)."""
        return cls.objects.get_or_create(pk=1)[0]


def every_kind() -> list[str]:
    """An office offers every kind of visit until an administrator says otherwise."""
    return list(Kind.values)


class LocationQuerySet(models.QuerySet):
    def in_use(self):
        return self.filter(active=True).order_by("name", "pk")


class Location(models.Model):
    """An office of the clinic, with its rooms and the doctors' hours there."""

    name = models.CharField(_("name"), max_length=100)
    time_zone = models.CharField(_("time zone"), max_length=50, default="America/Los_Angeles")
    address = models.CharField(_("address"), max_length=300, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    # An office out of use keeps its past appointments but offers no free time.
    active = models.BooleanField(_("in use"), default=True)
    # The kinds of visit (Kind values) booked here; a list, so a fifth kind needs no migration.
    kinds = models.JSONField(_("kinds of visit offered"), default=every_kind)

    objects = LocationQuerySet.as_manager()

    def __str__(self) -> str:
        return self.name

    def offers(self, kind: str) -> bool:
        return kind in self.kinds

    @property
    def place(self) -> str:
        """The office as a message or a calendar names it: its name and address."""
        return ", ".join(filter(None, [self.name, self.address]))


class Room(models.Model):
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="rooms")
    name = models.CharField(_("name"), max_length=50)
    active = models.BooleanField(_("in use"), default=True)

    class Meta:
        ordering = ["location", "name"]

    def __str__(self) -> str:
        return f"{self.location} · {self.name}"


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class WorkingHours(models.Model):
    """A doctor's regular hours on one weekday, in the location's local time."""

    doctor = models.ForeignKey(User, on_delete=models.CASCADE, related_name="working_hours")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    weekday = models.PositiveSmallIntegerField(_("day"), choices=Weekday.choices)
    starts = models.TimeField(_("from"))
    ends = models.TimeField(_("until"))

    class Meta:
        ordering = ["doctor", "weekday", "starts"]
        verbose_name_plural = _("working hours")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(starts__lt=models.F("ends")),
                name="working_hours_start_before_end",
            ),
        ]

    def __str__(self) -> str:
        hours = f"{when.time_of(self.starts)}–{when.time_of(self.ends)}"
        return f"{self.doctor} {self.get_weekday_display()} {hours}"


class TimeOff(models.Model):
    """A holiday, a training day, a sick afternoon: the doctor takes no appointments."""

    doctor = models.ForeignKey(User, on_delete=models.CASCADE, related_name="time_off")
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("until"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, related_name="+")
    # The form's token: a double click on "Block" saves one block.
    form_token = models.UUIDField(null=True, blank=True, unique=True, editable=False)

    class Meta:
        ordering = ["starts_at"]
        verbose_name_plural = _("time off")
        indexes = [
            # Free-slot search: a doctor's time off that overlaps a date range.
            models.Index(fields=["doctor", "starts_at"], name="timeoff_doctor_start_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(starts_at__lt=models.F("ends_at")),
                name="time_off_start_before_end",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.doctor} off {when.day_and_time(self.starts_at)}"


class ClosedDay(models.Model):
    """A day the clinic is closed (a holiday, a closure): nothing is offered on it, and staff
    book on it only by saying so. No location: closed everywhere."""

    day = models.DateField(_("date"))
    location = models.ForeignKey(
        Location,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="closed_days",
        verbose_name=_("location"),
        help_text=_("Leave empty when every location is closed."),
    )
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        ordering = ["day"]
        verbose_name = _("closed day")
        verbose_name_plural = _("closed days")
        constraints = [
            # Its index also serves the calendar's read of the closed days in a date range.
            models.UniqueConstraint(
                fields=["day", "location"], name="closed_day_once_per_location"
            ),
            # A NULL location is distinct from every other NULL to a plain unique constraint.
            models.UniqueConstraint(
                fields=["day"],
                condition=models.Q(location__isnull=True),
                name="closed_day_once_everywhere",
            ),
        ]

    def __str__(self) -> str:
        return f"{when.day(self.day)} {self.reason}".strip()


class Kind(models.TextChoices):
    CONSULTATION = "consultation", _("Consultation")
    SESSION = "session", _("Sclerotherapy session")
    TOUCH_UP = "touch_up", _("Touch-up session")
    REVIEW = "review", _("Follow-up review")


class Status(models.TextChoices):
    BOOKED = "booked", _("Booked")
    CHECKED_IN = "checked_in", _("Checked in")
    IN_PROGRESS = "in_progress", _("In progress")
    COMPLETED = "completed", _("Completed")
    NO_SHOW = "no_show", _("Did not come")
    CANCELLED = "cancelled", _("Cancelled")


ACTIVE_STATUSES = (Status.BOOKED, Status.CHECKED_IN, Status.IN_PROGRESS)
# No appointment lasts longer (a constraint says so); overlap queries rely on it.
MAX_LENGTH = timedelta(hours=12)


def overlap_q(starts_at, ends_at) -> models.Q:
    """Appointments that overlap [starts_at, ends_at). The lower bound on starts_at (no
    appointment is longer than MAX_LENGTH, a checked constraint) lets the index on starts_at
    serve the query; without it PostgreSQL read every appointment ever booked
    (bench/scheduling.py: 97 ms at a million rows)."""
    return models.Q(
        starts_at__lt=ends_at, starts_at__gt=starts_at - MAX_LENGTH, ends_at__gt=starts_at
    )


class CancelledBy(models.TextChoices):
    PATIENT = "patient", _("The patient")
    CLINIC = "clinic", _("The clinic")


class AppointmentQuerySet(models.QuerySet):
    def not_cancelled(self):
        return self.exclude(status=Status.CANCELLED)

    def overlapping(self, starts_at, ends_at):
        return self.filter(overlap_q(starts_at, ends_at))

    def overlapping_any(self, windows):
        """Overlapping any of the (start, end) windows: one query for a whole series."""
        condition = models.Q()
        for starts_at, ends_at in windows:
            condition |= overlap_q(starts_at, ends_at)
        return self.filter(condition)

    def for_doctor(self, doctor):
        return self.filter(doctor=doctor)

    def on_day(self, day, zone):
        return self.overlapping(*day_bounds(day, zone))

    def upcoming(self):
        return self.filter(starts_at__gte=timezone.now(), status__in=ACTIVE_STATUSES)


class Appointment(models.Model):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="appointments")
    doctor = models.ForeignKey(User, on_delete=models.PROTECT, related_name="appointments")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    room = models.ForeignKey(Room, on_delete=models.PROTECT, related_name="appointments")
    kind = models.CharField(_("type"), max_length=20, choices=Kind.choices)
    plan = models.ForeignKey(
        TreatmentPlan,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="appointments",
    )
    session_number = models.PositiveSmallIntegerField(_("session"), null=True, blank=True)
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.BOOKED)
    cancelled_by = models.CharField(max_length=10, choices=CancelledBy.choices, blank=True)
    cancel_reason = models.CharField(_("reason"), max_length=300, blank=True)
    late_cancel = models.BooleanField(_("late cancellation"), default=False)
    notes = models.CharField(_("note for the front desk"), max_length=300, blank=True)
    # Bumped on every change: a form opened before someone else's change can't overwrite it.
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, related_name="+")

    objects = AppointmentQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at", "id"]
        indexes = [
            # Day and week views, free-slot search: a doctor's appointments in a time range.
            models.Index(fields=["doctor", "starts_at"], name="appt_doctor_start_idx"),
            # The same for all doctors at once (day view, free-slot search). On PostgreSQL it
            # also carries ends_at, doctor, room and status (migration 0006).
            models.Index(fields=["starts_at"], name="appt_start_idx"),
            # The same for a room.
            models.Index(fields=["room", "starts_at"], name="appt_room_start_idx"),
            # A patient's upcoming and past appointments.
            models.Index(fields=["patient", "starts_at"], name="appt_patient_start_idx"),
            # The reports' new patients (reports.queries.new_patients): the consultations that
            # took place, and whether the patient had one before (bench/reports.py, two years:
            # 246 ms reading every visit of each patient, 37 ms with it).
            models.Index(
                fields=["patient", "starts_at"],
                name="appt_consultation_done_idx",
                condition=models.Q(kind="consultation", status="completed"),
            ),
        ]
        # No double booking: PostgreSQL exclusion constraints per doctor and per room, made in
        # migration 0002 (PostgreSQL only, like the trigram index of patients).
        constraints = [
            models.CheckConstraint(
                condition=models.Q(starts_at__lt=models.F("ends_at")),
                name="appointment_start_before_end",
            ),
            models.CheckConstraint(
                condition=models.Q(ends_at__lte=models.F("starts_at") + MAX_LENGTH),
                name="appointment_at_most_max_length",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}, {when.day_and_time(self.starts_at)}, {self.patient}"

    @property
    def duration(self) -> timedelta:
        return self.ends_at - self.starts_at

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES


class ChangeAction(models.TextChoices):
    """What a change of an appointment did (AppointmentChange.action, and the audit's)."""

    BOOKED = "booked", _("Booked")
    MOVED = "moved", _("Moved")
    CANCELLED = "cancelled", _("Cancelled")
    CHECKED_IN = "status:checked_in", _("Status: Checked in")
    IN_PROGRESS = "status:in_progress", _("Status: In progress")
    COMPLETED = "status:completed", _("Status: Completed")
    NO_SHOW = "status:no_show", _("Status: Did not come")
    BACK_TO_BOOKED = "status:booked", _("Status: Booked")
    # The patient undid their own cancellation within the undo window.
    RESTORED = "restored", _("Cancellation undone")

    @classmethod
    def of_status(cls, status: str) -> "ChangeAction":
        """The change that sets an appointment's status to `status`."""
        return {
            Status.CHECKED_IN: cls.CHECKED_IN,
            Status.IN_PROGRESS: cls.IN_PROGRESS,
            Status.COMPLETED: cls.COMPLETED,
            Status.NO_SHOW: cls.NO_SHOW,
            Status.BOOKED: cls.BACK_TO_BOOKED,
        }[status]


class AppointmentChange(models.Model):
    """Every change of an appointment: who, when, what, from what to what. Nothing is deleted."""

    appointment = models.ForeignKey(Appointment, on_delete=models.PROTECT, related_name="changes")
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, related_name="+")
    action = models.CharField(max_length=20, choices=ChangeAction.choices)
    before = models.JSONField(default=dict)
    after = models.JSONField(default=dict)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.action} {self.appointment_id} at {self.at:%Y-%m-%d %H:%M}"


class CalendarFeed(models.Model):
    """A patient's private calendar subscription. The token is the only key to the feed, so a
    revoked one answers 404 and a new one is made in its place."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="calendar_feeds")
    token = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"calendar feed of {self.patient_id}"


class BookingStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for the email link")
    CONFIRMED = "confirmed", _("Booked")
    # Booked under a new record, but likely an existing patient: the front desk says whether
    # it is the same person (the records are joined) or not.
    NEEDS_DESK = "needs_desk", _("Booked; may be a patient already")
    # The time was taken before the link was followed; the person may choose another.
    LOST_TIME = "lost_time", _("The time was taken meanwhile")


class BookingRequest(models.Model):
    """A consultation asked for on the public booking page by someone who is not a patient
    yet (issue 15, point 1). Nothing is booked until the person follows the link emailed to
    them: then the request becomes a patient and an appointment (and, when the person may be a
    patient already, waits for the front desk to say whether the two records are one)."""

    legal_first_name = models.CharField(_("legal first name"), max_length=100)
    legal_last_name = models.CharField(_("legal last name"), max_length=100)
    date_of_birth = models.DateField(_("date of birth"))
    phone = PhoneNumberField(_("mobile phone"), blank=True)
    email = models.EmailField(_("email"))
    consent_email = models.BooleanField(default=True)
    consent_sms = models.BooleanField(default=False)
    # The screening in the person's words: {question key: yes/no/unknown}.
    answers = models.JSONField(default=dict)
    doctor = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    starts_at = models.DateTimeField()
    # The office of the time chosen (None: a request made before there were two).
    location = models.ForeignKey(
        Location, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    status = models.CharField(
        max_length=12, choices=BookingStatus.choices, default=BookingStatus.PENDING
    )
    # The link's token is derived from this (scheduling.online_booking.token_for) when the
    # email is written; only its hash is kept, to find the request from the link.
    nonce = models.UUIDField(unique=True, editable=False)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    confirmed_at = models.DateTimeField(null=True, blank=True)
    appointment = models.OneToOneField(
        "Appointment",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="booking_request",
    )
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The existing record the duplicate check found: the front desk says if it is the same.
    matched_patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolved_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The limit per address: this address's requests in the last hour.
            models.Index(fields=["ip", "created_at"], name="bookingrequest_ip_idx"),
            # The limit per contact: this email's (or phone's) requests in the last day.
            models.Index(fields=["email", "created_at"], name="bookingrequest_email_idx"),
            models.Index(fields=["phone", "created_at"], name="bookingrequest_phone_idx"),
            # The front desk's list of requests still open.
            models.Index(
                fields=["-created_at"],
                name="bookingrequest_open_idx",
                condition=models.Q(status__in=["pending", "needs_desk"]),
            ),
        ]

    def __str__(self) -> str:
        return f"online request {self.pk} ({self.status})"


# --- The waitlist (issue 17, point 3) -------------------------------------------------------


class DayPart(models.TextChoices):
    ANY = "any", _("Any time of day")
    MORNING = "morning", _("Mornings (before noon)")
    AFTERNOON = "afternoon", _("Afternoons (from noon)")


class WaitlistStatus(models.TextChoices):
    WAITING = "waiting", _("Waiting")
    BOOKED = "booked", _("Booked from the waitlist")
    REMOVED = "removed", _("Taken off the list")


# Weekdays as bits of WaitlistEntry.weekdays: Monday is bit 0.
EVERY_WEEKDAY = 0b1111111
WORKING_WEEK = 0b0011111


class WaitlistEntry(models.Model):
    """A patient who would take an earlier time for a kind of visit: with a doctor or any, on
    some weekdays, mornings or afternoons, between two dates. Offered a freed time in the order
    they joined (created_at)."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("type of visit"), max_length=20, choices=Kind.choices)
    # A session is the next one of this plan, with the plan's doctor.
    plan = models.ForeignKey(
        TreatmentPlan, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    doctor = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    location = models.ForeignKey(
        Location, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    weekdays = models.PositiveSmallIntegerField(_("days"), default=EVERY_WEEKDAY)
    day_part = models.CharField(
        _("time of day"), max_length=10, choices=DayPart.choices, default=DayPart.ANY
    )
    not_before = models.DateField(_("from"))
    not_after = models.DateField(_("until"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    status = models.CharField(
        max_length=10, choices=WaitlistStatus.choices, default=WaitlistStatus.WAITING
    )
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, related_name="+")
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    appointment = models.ForeignKey(
        Appointment, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("waitlist entry")
        verbose_name_plural = _("waitlist")
        indexes = [
            # The offers' search and the staff list: who is waiting, in the order they joined.
            models.Index(
                fields=["created_at"],
                name="waitlist_waiting_idx",
                condition=models.Q(status="waiting"),
            ),
            # A patient's own entries (record, portal).
            models.Index(fields=["patient", "status"], name="waitlist_patient_idx"),
        ]
        constraints = [
            # One wish per patient and kind of visit: a second click adds nothing.
            models.UniqueConstraint(
                fields=["patient", "kind"],
                condition=models.Q(status="waiting"),
                name="waitlist_once_per_kind",
            ),
            models.CheckConstraint(
                condition=models.Q(weekdays__gt=0, weekdays__lte=EVERY_WEEKDAY),
                name="waitlist_some_weekday",
            ),
        ]

    def __str__(self) -> str:
        return f"waitlist {self.pk} ({self.kind}, {self.status})"

    def wants_weekday(self, weekday: int) -> bool:
        return bool(self.weekdays & (1 << weekday))

    def weekday_names(self) -> list[str]:
        return [str(label) for value, label in Weekday.choices if self.wants_weekday(value)]

    def days_label(self) -> str:
        """The days in a few words: "Every day", "Monday to Friday", or the days named."""
        if self.weekdays == EVERY_WEEKDAY:
            return str(_("Every day"))
        if self.weekdays == WORKING_WEEK:
            return str(_("Monday to Friday"))
        return ", ".join(self.weekday_names())


class OpeningReason(models.TextChoices):
    CANCELLED = "cancelled", _("Cancelled")
    MOVED = "moved", _("Moved")
    TIME_OFF_LIFTED = "time_off_lifted", _("Time off lifted")


class OpeningStatus(models.TextChoices):
    OPEN = "open", _("Being offered")
    # At least one visit booked from it; the rest of a long freed time is still offered.
    FILLED = "filled", _("Filled from the waitlist")
    CLOSED = "closed", _("Over")


class Opening(models.Model):
    """A doctor's time that became free (a cancellation, a move, time off lifted), written in
    the transaction that freed it; the waitlist task offers it to the patients it fits."""

    doctor = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=20, choices=OpeningReason.choices)
    appointment = models.ForeignKey(
        Appointment, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    status = models.CharField(
        max_length=10, choices=OpeningStatus.choices, default=OpeningStatus.OPEN
    )
    created_at = models.DateTimeField(default=timezone.now)
    # Not offered before this (a patient's own cancellation may still be undone).
    offer_from = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    # The last waitlist entry (by id, the order of joining) this opening was weighed for: the
    # task goes on from the next one when an offer lapses or is declined.
    seen_entry_id = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["starts_at", "id"]
        indexes = [
            # The waitlist task: the openings still being offered.
            models.Index(
                fields=["offer_from"],
                name="opening_open_idx",
                condition=models.Q(status__in=["open", "filled"]),
            ),
        ]

    def __str__(self) -> str:
        return f"opening {self.pk} ({self.status})"


class OfferStatus(models.TextChoices):
    SENT = "sent", _("Offered, no answer yet")
    ACCEPTED = "accepted", _("Accepted: booked")
    WENT = "went", _("Went to someone else")
    EXPIRED = "expired", _("No answer in time")
    DECLINED = "declined", _("Declined")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class WaitlistOffer(models.Model):
    """One freed time offered to one waiting patient, by message with a link that books it
    (no login: the token in the link is the key, only its digest is kept)."""

    opening = models.ForeignKey(Opening, on_delete=models.PROTECT, related_name="offers")
    entry = models.ForeignKey(WaitlistEntry, on_delete=models.PROTECT, related_name="offers")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=OfferStatus.choices, default=OfferStatus.SENT)
    nonce = models.UUIDField(unique=True, editable=False)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    sent_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    appointment = models.ForeignKey(
        Appointment, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["sent_at", "id"]
        constraints = [
            # An opening is offered to a patient once.
            models.UniqueConstraint(fields=["opening", "entry"], name="offer_once_per_entry"),
        ]
        indexes = [
            # The task's expiry of unanswered offers.
            models.Index(
                fields=["expires_at"], name="offer_live_idx", condition=models.Q(status="sent")
            ),
        ]

    def __str__(self) -> str:
        return f"offer {self.pk} ({self.status})"
