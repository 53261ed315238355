"""Forms of the patient's own pages."""

import uuid
from collections import defaultdict
from datetime import datetime

from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.utils.translation import gettext_lazy as _
from phonenumber_field.formfields import PhoneNumberField

from goodskin.fields import (
    BoundedDateField,
    TokenMixin,
    VersionField,
    birth_window,
    refuse_hidden_characters,
    version_error_for_the_page,
)
from patients.forms import LanguageMixin
from patients.models import Channel, Patient
from patients.screening import PATIENT_WORDING, QUESTIONS, Answer
from scheduling import clock
from treatments.models import CheckInAnswer

# What the confirmation page's button posts: a change is made only with it.
CONFIRMED = "yes"


class CancelForm(forms.Form):
    """Cancelling carries the version of the appointment the patient saw, and the answer of
    the confirmation page (without it, the page asks)."""

    version = VersionField()
    confirm = forms.CharField(required=False, max_length=10)

    @property
    def confirmed(self) -> bool:
        return self.cleaned_data.get("confirm") == CONFIRMED


class UndoForm(forms.Form):
    """Undoing a cancellation carries the version of the cancelled appointment."""

    version = VersionField()


class TimeChoiceForm(forms.Form):
    """Pick one of the free times offered (`options`, slots); anything else posted is refused.
    The page lists them a day at a time (`by_day`, for portal/_time_choices.html)."""

    starts_at = forms.ChoiceField(label=_("Time"), widget=forms.RadioSelect)

    def __init__(self, *args, options, **kwargs):
        super().__init__(*args, **kwargs)
        self.options = options
        self.fields["starts_at"].choices = [
            (slot.starts_at.isoformat(), slot.starts_at) for slot in options
        ]

    def clean_starts_at(self) -> datetime:
        return datetime.fromisoformat(self.cleaned_data["starts_at"])

    def by_day(self) -> list[tuple]:
        """[(day, [(value, local time, office)])] of the times offered, in the clinic's zone
        (no office named: the patient's own appointment or plan says where)."""
        tz = clock.zone()
        days = defaultdict(list)
        for slot in self.options:
            local = slot.starts_at.astimezone(tz)
            days[local.date()].append((slot.starts_at.isoformat(), local, ""))
        return sorted(days.items())


class MoveChoiceForm(TimeChoiceForm):
    """A new time for an appointment, with the version of the appointment the patient saw."""

    version = VersionField()
    confirm = forms.CharField(required=False, max_length=10)

    def __init__(self, *args, options, version: int, **kwargs):
        super().__init__(*args, options=options, initial={"version": version}, **kwargs)
        self.fields["starts_at"].label = _("New time")

    def clean(self):
        cleaned = super().clean()
        version_error_for_the_page(self)
        return cleaned

    @property
    def confirmed(self) -> bool:
        return self.cleaned_data.get("confirm") == CONFIRMED


class PreferencesForm(LanguageMixin, forms.ModelForm):
    phone = PhoneNumberField(label=_("Mobile phone"), required=False)
    language = forms.ChoiceField(
        label=_("Language of your messages and of these pages"),
        choices=settings.LANGUAGES,
        required=False,
    )
    version = VersionField()

    class Meta:
        model = Patient
        fields = [
            "phone",
            "email",
            "address_line1",
            "address_line2",
            "city",
            "state",
            "postal_code",
            "reminder_channel",
            "language",
            "consent_email",
            "consent_sms",
            "consent_reminders",
            "consent_aftercare",
        ]
        labels = {
            "reminder_channel": _("How should the clinic send you messages?"),
            "consent_email": _("The clinic may email me"),
            "consent_sms": _("The clinic may send me text messages"),
            "consent_reminders": _(
                "Send me appointment reminders, and the invitation to a touch-up review"
            ),
            "consent_aftercare": _(
                "Send me aftercare advice in the days after each session (support hose, "
                "exercise, when to book the next session)"
            ),
        }
        help_texts = {
            "consent_aftercare": _(
                "Whatever you choose, after each treatment session we send you one message with "
                "the warning signs to watch for, for your safety."
            ),
        }

    def clean_email(self):
        return self.cleaned_data["email"].strip().lower()

    def clean(self):
        cleaned = super().clean()
        channel = cleaned.get("reminder_channel")
        if channel == Channel.SMS and not cleaned.get("phone"):
            self.add_error("phone", _("Add a mobile number to get text messages."))
        if channel == Channel.EMAIL and not cleaned.get("email"):
            self.add_error("email", _("Add an email address to get emails."))
        version_error_for_the_page(self)
        return cleaned

    def model_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class OpenAccountForm(forms.Form):
    """The patient chooses a password from the invitation link."""

    password1 = forms.CharField(
        label=_("Choose a password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label=_("Type it again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        cleaned = super().clean()
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error("password2", _("The two passwords are not the same."))
        elif first:
            try:
                password_validation.validate_password(first)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class BookChoiceForm(TimeChoiceForm):
    """A time for the plan's next session. The plan and the session number the page was
    opened for come back with it: if the front desk booked that session meanwhile, the
    booking is refused instead of landing on another session."""

    plan = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**31 - 1)
    session = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=99)

    def __init__(self, *args, options, plan: int, session: int, **kwargs):
        super().__init__(
            *args, options=options, initial={"plan": plan, "session": session}, **kwargs
        )

    def clean(self):
        cleaned = super().clean()
        opened_for = (cleaned.get("plan"), cleaned.get("session"))
        if None not in opened_for and opened_for != (
            self.initial["plan"],
            self.initial["session"],
        ):
            raise forms.ValidationError(
                _("This session is booked already, or your plan changed. Look at your schedule.")
            )
        return cleaned


class MyScreeningForm(forms.Form):
    """The screening questions in plain words, for the patient to answer before a visit."""

    CHOICES = [("yes", _("Yes")), ("no", _("No")), ("unknown", _("I don't know"))]

    def __init__(self, *args, current: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        for question in QUESTIONS:
            self.fields[question.key] = forms.ChoiceField(
                label=PATIENT_WORDING[question.key],
                choices=self.CHOICES,
                widget=forms.RadioSelect,
                initial=current.get(question.key, Answer.UNKNOWN),
            )

    def answers(self) -> dict[str, str]:
        return {q.key: self.cleaned_data[q.key] for q in QUESTIONS}


class OnlineTimeForm(forms.Form):
    """One of the free consultation times offered on the public page (value: time|doctor);
    anything else posted is refused."""

    starts_at = forms.ChoiceField(label=_("Time"), widget=forms.RadioSelect)

    def __init__(self, *args, options, **kwargs):
        super().__init__(*args, **kwargs)
        self.options = {choice.value: choice for choice in options}
        self.fields["starts_at"].choices = [(value, value) for value in self.options]

    def choice(self):
        return self.options[self.cleaned_data["starts_at"]]

    def by_day(self) -> list[tuple]:
        """[(day, [(value, local time, office name when there are several)])]."""
        tz = clock.zone()
        days = defaultdict(list)
        for value, choice in self.options.items():
            local = choice.starts_at.astimezone(tz)
            days[local.date()].append((value, local, choice.office))
        return sorted(days.items())


class OnlineBookingForm(OnlineTimeForm, MyScreeningForm):
    """A new patient asks for a consultation: a free time, who they are, how to reach them and
    the screening questions in plain words. `website` is a trap for robots: hidden from
    people, and a request that fills it in is answered as usual and kept nowhere."""

    legal_first_name = forms.CharField(
        label=_("First name (as on your ID)"),
        max_length=100,
        validators=[refuse_hidden_characters],
    )
    legal_last_name = forms.CharField(
        label=_("Last name (as on your ID)"),
        max_length=100,
        validators=[refuse_hidden_characters],
    )
    date_of_birth = BoundedDateField(
        label=_("Date of birth"),
        window=birth_window,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    email = forms.EmailField(
        label=_("Email"),
        max_length=254,
        help_text=_("We send the link that confirms your booking here."),
    )
    phone = PhoneNumberField(label=_("Mobile phone"), required=False)
    consent_email = forms.BooleanField(
        label=_("The clinic may email me about my appointments"), required=False, initial=True
    )
    consent_sms = forms.BooleanField(
        label=_("The clinic may send me text messages about my appointments"), required=False
    )
    website = forms.CharField(label=_("Leave this empty"), required=False, max_length=200)
    form_token = forms.UUIDField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, options, **kwargs):
        super().__init__(*args, options=options, current={}, **kwargs)
        for question in QUESTIONS:  # a person new to the clinic answers each one
            self.fields[question.key].initial = None
        if not self.is_bound:
            self.initial.setdefault("form_token", uuid.uuid4())

    def clean_email(self):
        return self.cleaned_data["email"].strip().lower()

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("consent_sms") and not cleaned.get("phone"):
            self.add_error("phone", _("Add a mobile number to get text messages."))
        return cleaned

    def questions(self) -> list:
        return [self[question.key] for question in QUESTIONS]

    @property
    def is_robot(self) -> bool:
        return bool(self.data.get("website"))

    def details(self) -> dict:
        data = self.cleaned_data
        names = ["legal_first_name", "legal_last_name", "date_of_birth", "email", "phone"]
        details = {name: data[name] for name in names}
        details["phone"] = details["phone"] or ""
        details.update(
            consent_email=data["consent_email"],
            consent_sms=data["consent_sms"],
            answers=self.answers(),
        )
        return details


class CheckInForm(TokenMixin):
    """How are your legs? (the safety check-in after a session). More than one sign may be
    ticked; "fine" goes alone."""

    answers = forms.MultipleChoiceField(
        label=_("How are your legs?"),
        choices=CheckInAnswer.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Tick at least one answer.")},
    )
    note = forms.CharField(
        label=_("Anything else you want to tell us (optional)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean_answers(self) -> list[str]:
        answers = self.cleaned_data["answers"]
        if CheckInAnswer.FINE in answers and len(answers) > 1:
            raise forms.ValidationError(
                _("Tick “My legs are fine” only when nothing else is wrong.")
            )
        return answers

    def clean_note(self) -> str:
        note = self.cleaned_data["note"]
        if "\x00" in note:
            raise forms.ValidationError(_("This text has a hidden control character."))
        return note.strip()
