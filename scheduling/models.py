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


class Location(models.Model):
    name = models.CharField(_("name"), max_length=100)
    time_zone = models.CharField(_("time zone"), max_length=50, default="America/Los_Angeles")
    address = models.CharField(_("address"), max_length=300, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)

    def __str__(self) -> str:
        return self.name


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
