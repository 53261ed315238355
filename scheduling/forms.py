"""Forms of the scheduling pages. Dates and times are typed in the clinic's zone; a form turns
them into one instant or says why it can't (a time the clocks skip or repeat)."""

from datetime import date, datetime, time, timedelta

from django import forms
from django.forms.models import ModelChoiceIterator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from goodskin import when
from goodskin.fields import (
    TokenMixin,
    VersionField,
    schedule_date_field,
    version_error_for_the_page,
)
from patients.forms import DateInput
from treatments.models import TreatmentPlan

from . import clock
from .models import CancelledBy, DayPart, Kind, Location, Status, Weekday
from .services.waitlist import Wish
from .slots import doctors

MAX_SEARCH_DAYS = 92


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, **kwargs):
        super().__init__(format="%H:%M", **kwargs)


def _instant(form: forms.Form, day: date | None, at: time | None, tz, field: str = "time"):
    """The instant for a typed day and time, or None with a form error on `field`."""
    if day is None or at is None:
        return None
    try:
        return clock.instant(day, at, tz)
    except clock.LocalTimeError as error:
        form.add_error(field, str(error))
        return None


class DoctorChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.get_full_name() or obj.get_username()


class ListedChoices(ModelChoiceIterator):
    """The choices of a ModelChoiceField from a list its form read once (`field.listed`), so
    that the page that also uses the list reads it once; the queryset still validates."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.field.listed:
            yield self.choice(obj)

    def __len__(self):
        return len(self.field.listed) + (self.field.empty_label is not None)

    def __bool__(self):
        return self.field.empty_label is not None or bool(self.field.listed)


def office_field(**kwargs) -> forms.ModelChoiceField:
    """A choice of the offices in use (issue 17, point 4)."""
    return forms.ModelChoiceField(
        label=_("Office"), queryset=Location.objects.in_use(), required=False, **kwargs
    )


class PlanChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return _("Plan of %(day)s, %(sessions)d sessions (%(status)s)") % {
            "day": when.birthday(timezone.localdate(obj.created_at)),
            "sessions": obj.sessions_planned,
            "status": obj.get_status_display(),
        }


def open_anyway_field(label) -> forms.BooleanField:
    """Staff only: book or move onto a day the clinic is closed, on purpose."""
    return forms.BooleanField(
        label=label,
        required=False,
        help_text=_("Only when the clinic opens that day for this patient."),
    )


class VersionForm(forms.Form):
    """Carries the version the person saw: a change made meanwhile refuses the form."""

    version = VersionField()

    def clean(self):
        data = super().clean()
        version_error_for_the_page(self)
        return data


class AppointmentForm(forms.Form):
    kind = forms.ChoiceField(label=_("Type"), choices=Kind.choices)
    doctor = DoctorChoiceField(label=_("Doctor"), queryset=None)
    date = schedule_date_field(label=_("Date"), widget=DateInput())
    time = forms.TimeField(label=_("Time (clinic time)"), widget=TimeInput())
    plan = PlanChoiceField(label=_("Treatment plan"), queryset=None, required=False)
    session_number = forms.IntegerField(
        label=_("Session number"), min_value=1, max_value=12, required=False
    )
    location = office_field(empty_label=None)
    notes = forms.CharField(label=_("Note for the front desk"), max_length=300, required=False)
    open_anyway = open_anyway_field(_("Book although the clinic is closed"))

    def __init__(self, *args, patient, tz, **kwargs):
        super().__init__(*args, **kwargs)
        self.tz = tz
        self.fields["doctor"].queryset = doctors()
        self.fields["plan"].queryset = TreatmentPlan.objects.filter(patient=patient).order_by("-pk")
        self.fields["plan"].help_text = _("Only for a sclerotherapy session.")
        # With one office there is nothing to choose: it goes with the form, unseen.
        offices = list(Location.objects.in_use()[:2])
        if len(offices) == 1:
            self.fields["location"].widget = forms.HiddenInput()
            self.fields["location"].initial = offices[0].pk

    def clean(self):
        data = super().clean()
        if data.get("kind") == Kind.SESSION:
            if not data.get("plan"):
                self.add_error("plan", _("A sclerotherapy session belongs to a treatment plan."))
            if not data.get("session_number"):
                self.add_error("session_number", _("Which session of the plan is this?"))
        data["starts_at"] = _instant(self, data.get("date"), data.get("time"), self.tz)
        return data


class MoveForm(VersionForm):
    date = schedule_date_field(label=_("New date"), widget=DateInput())
    time = forms.TimeField(label=_("New time (clinic time)"), widget=TimeInput())
    open_anyway = open_anyway_field(_("Move although the clinic is closed"))
    shift_later = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, tz, **kwargs):
        super().__init__(*args, **kwargs)
        self.tz = tz

    def clean(self):
        data = super().clean()
        data["starts_at"] = _instant(self, data.get("date"), data.get("time"), self.tz)
        return data


class CancelForm(VersionForm):
    cancelled_by = forms.ChoiceField(
        label=_("Who cancelled"), choices=CancelledBy.choices, widget=forms.RadioSelect
    )
    reason = forms.CharField(label=_("Reason"), max_length=300)


class StatusForm(VersionForm):
    status = forms.ChoiceField(choices=[c for c in Status.choices if c[0] != Status.CANCELLED])
    next = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)


class SlotSearchForm(forms.Form):
    kind = forms.ChoiceField(label=_("Type"), choices=Kind.choices, initial=Kind.CONSULTATION)
    doctor = DoctorChoiceField(
        label=_("Doctor"), queryset=None, required=False, empty_label=_("Any doctor")
    )
    first_day = schedule_date_field(label=_("From"), widget=DateInput())
    last_day = schedule_date_field(label=_("Until"), widget=DateInput())
    # The patient, found by what the front desk knows (name, phone, email, date of birth);
    # once chosen from the matches, carried as a record number in a hidden field.
    who = forms.CharField(
        label=_("Patient"),
        required=False,
        max_length=100,
        help_text=_("Name, phone, email or date of birth"),
    )
    patient = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    location = office_field(empty_label=_("All offices"))
    part = forms.ChoiceField(
        label=_("Time of day"),
        required=False,
        choices=[("", _("Any time")), ("morning", _("Morning")), ("afternoon", _("Afternoon"))],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The doctors, read once: the choices, and every doctor the search looks at.
        self.doctors = list(doctors())
        field = self.fields["doctor"]
        field.queryset, field.listed, field.iterator = doctors(), self.doctors, ListedChoices
        field.widget.choices = field.choices
        # The offices in use, likewise.
        self.offices = list(Location.objects.in_use())
        field = self.fields["location"]
        field.listed, field.iterator = self.offices, ListedChoices
        field.widget.choices = field.choices

    def clean(self):
        data = super().clean()
        first, last = data.get("first_day"), data.get("last_day")
        if first and last:
            if last < first:
                self.add_error("last_day", _("The last day is before the first."))
            elif last - first > timedelta(days=MAX_SEARCH_DAYS):
                self.add_error(
                    "last_day",
                    _("Search at most %(n)d days at a time.") % {"n": MAX_SEARCH_DAYS},
                )
        return data


class SeriesForm(forms.Form):
    """One date and time per remaining session; a row left empty is not booked."""

    def __init__(self, *args, numbers: list[int], tz, initial_starts=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.numbers, self.tz = numbers, tz
        self.fields["open_anyway"] = open_anyway_field(_("Book although the clinic is closed"))
        self.fields["open_anyway"].widget.attrs["class"] = "form-check-input"
        for number in numbers:
            start = (initial_starts or {}).get(number)
            local = start.astimezone(tz) if start else None
            self.fields[f"date_{number}"] = schedule_date_field(
                label=_("Date of session %(n)d") % {"n": number},
                widget=DateInput(attrs={"class": "form-control"}),
                required=False,
                initial=local.date() if local else None,
            )
            self.fields[f"time_{number}"] = forms.TimeField(
                label=_("Time of session %(n)d") % {"n": number},
                widget=TimeInput(attrs={"class": "form-control"}),
                required=False,
                initial=local.time() if local else None,
            )

    def rows(self):
        return [(n, self[f"date_{n}"], self[f"time_{n}"]) for n in self.numbers]

    def clean(self):
        data = super().clean()
        starts: dict[int, datetime] = {}
        for number in self.numbers:
            day, at = data.get(f"date_{number}"), data.get(f"time_{number}")
            if bool(day) != bool(at):
                self.add_error(f"time_{number}", _("Give both a date and a time, or neither."))
                continue
            moment = _instant(self, day, at, self.tz, field=f"time_{number}")
            if moment is not None:
                starts[number] = moment
        data["starts"] = starts
        return data


class TimeOffForm(TokenMixin, forms.Form):
    doctor = DoctorChoiceField(label=_("Doctor"), queryset=None)
    date = schedule_date_field(label=_("Date"), widget=DateInput())
    starts = forms.TimeField(label=_("From (clinic time)"), widget=TimeInput())
    ends = forms.TimeField(label=_("Until (clinic time)"), widget=TimeInput())
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)

    def __init__(self, *args, tz, doctor=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.tz = tz
        self.fields["doctor"].queryset = doctors()
        if doctor is not None:
            # A doctor blocks time for themselves only: the choice is theirs, fixed.
            self.fields["doctor"].queryset = doctors().filter(pk=doctor.pk)
            self.fields["doctor"].initial = doctor.pk
            self.fields["doctor"].widget = forms.HiddenInput()

    def clean(self):
        data = super().clean()
        starts, ends = data.get("starts"), data.get("ends")
        if starts and ends and ends <= starts:
            self.add_error("ends", _("The end must be after the start."))
            return data
        data["starts_at"] = _instant(self, data.get("date"), starts, self.tz, field="starts")
        data["ends_at"] = _instant(self, data.get("date"), ends, self.tz, field="ends")
        if data["ends_at"] and data["ends_at"] <= timezone.now():
            self.add_error("date", _("That time is already over."))
        return data


class ResolveOnlineRequestForm(forms.Form):
    """The front desk's answer to an online booking whose person may be a patient already."""

    request = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**63 - 1)
    resolution = forms.ChoiceField(
        choices=[
            ("same", _("Same person: join the new record into this one")),
            ("new", _("A different person: keep both records")),
        ]
    )


class WaitlistForm(forms.Form):
    """A patient's wish for the waitlist. Staff choose the doctor and may add a note; a
    patient (portal) only the kind, days, time of day and dates (`for_patient`)."""

    kind = forms.ChoiceField(label=_("Type of visit"), choices=Kind.choices)
    doctor = DoctorChoiceField(
        label=_("Doctor"), queryset=None, required=False, empty_label=_("Any doctor")
    )
    weekdays = forms.TypedMultipleChoiceField(
        label=_("Days that suit"),
        choices=Weekday.choices,
        coerce=int,
        initial=[0, 1, 2, 3, 4],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one day of the week.")},
    )
    day_part = forms.ChoiceField(
        label=_("Time of day"),
        choices=DayPart.choices,
        initial=DayPart.ANY,
        widget=forms.RadioSelect,
    )
    location = forms.ModelChoiceField(
        label=_("Office"), queryset=None, required=False, empty_label=_("Any office")
    )
    not_before = schedule_date_field(label=_("From"), widget=DateInput())
    not_after = schedule_date_field(label=_("Until (optional)"), widget=DateInput(), required=False)
    note = forms.CharField(label=_("Note for the front desk"), max_length=300, required=False)

    def __init__(self, *args, kinds=None, for_patient: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if kinds is not None:
            self.fields["kind"].choices = [(k, Kind(k).label) for k in kinds]
        if for_patient:
            del self.fields["doctor"], self.fields["note"]
        else:
            self.fields["doctor"].queryset = doctors()
        offices = Location.objects.in_use()
        if len(offices) > 1:  # a choice only where there is one to make
            self.fields["location"].queryset = offices
        else:
            del self.fields["location"]
        self.initial.setdefault("not_before", timezone.localdate())

    def clean(self):
        data = super().clean()
        first, last = data.get("not_before"), data.get("not_after")
        if first and first < timezone.localdate():
            self.add_error("not_before", _("The first day can't be in the past."))
        if first and last and last < first:
            self.add_error("not_after", _("The last day must be on or after the first day."))
        return data

    def wish(self) -> Wish:
        data = self.cleaned_data
        return Wish(
            kind=data["kind"],
            not_before=data["not_before"],
            not_after=data.get("not_after"),
            doctor=data.get("doctor"),
            location=data.get("location"),
            weekdays=sum(1 << day for day in set(data["weekdays"])),
            day_part=data["day_part"],
            note=data.get("note", ""),
        )
