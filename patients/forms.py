from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Column, Fieldset, Layout, Row
from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from phonenumber_field.formfields import PhoneNumberField

from goodskin.fields import (
    BoundedDateField,
    TokenMixin,
    VersionField,
    birth_window,
    limit_text,
    refuse_hidden_characters,
    version_error_for_the_page,
)

from .models import Patient
from .screening import QUESTIONS, Answer, Kind

NAME_FIELDS = ("legal_first_name", "legal_last_name", "preferred_name", "emergency_contact_name")


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class LanguageMixin(forms.Form):
    """The patient's language. A form posted without it (a page opened before the field
    existed) keeps the language the record has."""

    language = forms.ChoiceField(
        label=_("Language"),
        choices=settings.LANGUAGES,
        required=False,
        help_text=_("The language of the patient's messages and patient pages."),
    )

    def clean_language(self) -> str:
        return self.cleaned_data.get("language") or self.instance.language


class PatientForm(LanguageMixin, TokenMixin, forms.ModelForm):
    phone = PhoneNumberField(
        label=_("Mobile phone"),
        required=False,
        help_text=_("Any usual form, e.g. (503) 555-0142."),
    )
    emergency_contact_phone = PhoneNumberField(label=_("Emergency contact phone"), required=False)

    class Meta:
        model = Patient
        fields = [
            "legal_first_name",
            "legal_last_name",
            "preferred_name",
            "date_of_birth",
            "sex",
            "phone",
            "email",
            "address_line1",
            "address_line2",
            "city",
            "state",
            "postal_code",
            "emergency_contact_name",
            "emergency_contact_relation",
            "emergency_contact_phone",
            "reminder_channel",
            "language",
            "consent_email",
            "consent_sms",
            "consent_reminders",
            "consent_aftercare",
            "consent_photos",
            "notes",
        ]
        labels = {
            "consent_reminders": _("Wants appointment reminders (and the touch-up invitation)"),
            "consent_aftercare": _("Wants aftercare advice in the days after each session"),
        }
        help_texts = {
            "consent_aftercare": _(
                "Without it (or without a channel they agreed to), they get only one message "
                "with the warning signs after each session: give them the printed aftercare "
                "sheet."
            ),
        }
        widgets = {
            "date_of_birth": DateInput(),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }
        field_classes = {"date_of_birth": BoundedDateField}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        limit_text(self)
        self.fields["date_of_birth"].window = birth_window
        self.fields["date_of_birth"].error_messages.update(
            too_late=_("A date of birth can't be in the future."),
            too_early=_("Check the year: this date is too long ago."),
        )
        for name in NAME_FIELDS:
            self.fields[name].validators.append(refuse_hidden_characters)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Fieldset(
                _("Who"),
                Row(
                    Column("legal_first_name", css_class="col-md-4"),
                    Column("legal_last_name", css_class="col-md-4"),
                    Column("preferred_name", css_class="col-md-4"),
                ),
                Row(
                    Column("date_of_birth", css_class="col-md-4"),
                    Column("sex", css_class="col-md-4"),
                ),
            ),
            Fieldset(
                _("How to reach them"),
                Row(Column("phone", css_class="col-md-6"), Column("email", css_class="col-md-6")),
                "address_line1",
                "address_line2",
                Row(
                    Column("city", css_class="col-md-6"),
                    Column("state", css_class="col-md-2"),
                    Column("postal_code", css_class="col-md-4"),
                ),
                Row(
                    Column("emergency_contact_name", css_class="col-md-5"),
                    Column("emergency_contact_relation", css_class="col-md-3"),
                    Column("emergency_contact_phone", css_class="col-md-4"),
                ),
            ),
            Fieldset(
                _("Reminders and consent"),
                Row(
                    Column("reminder_channel", css_class="col-md-6"),
                    Column("language", css_class="col-md-6"),
                ),
                "consent_email",
                "consent_sms",
                "consent_reminders",
                "consent_aftercare",
                "consent_photos",
                HTML(
                    '<p class="small text-body-secondary">{% load i18n %}{% translate '
                    '"The date a consent is given or withdrawn is recorded when you save." %}'
                    "</p>"
                ),
            ),
            "notes",
        )

    def clean(self):
        cleaned = super().clean()
        for name in NAME_FIELDS:
            if name in cleaned and isinstance(cleaned[name], str):
                cleaned[name] = " ".join(cleaned[name].split())
        for name in ("legal_first_name", "legal_last_name"):
            if name in cleaned and not cleaned[name]:
                self.add_error(name, _("Enter a name, not only spaces."))
        return cleaned

    def clean_email(self):
        return self.cleaned_data["email"].strip().lower()

    def clean_state(self):
        return self.cleaned_data["state"].strip().upper()

    def model_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class PatientEditForm(PatientForm):
    version = VersionField()

    def clean(self):
        cleaned = super().clean()
        version_error_for_the_page(self)
        return cleaned


class InviteForm(TokenMixin, forms.Form):
    """The portal invitation button: only its token."""


class DuplicateChoiceForm(forms.Form):
    """After possible duplicates are shown: create the new record anyway."""

    create_anyway = forms.BooleanField(required=False, widget=forms.HiddenInput)


ANSWER_CHOICES = [(a.value, a.label) for a in Answer]


class ScreeningForm(forms.Form):
    """Every screening question: yes / no / unknown and a short note."""

    def __init__(self, *args, answers: dict, **kwargs):
        super().__init__(*args, **kwargs)
        for question in QUESTIONS:
            current = answers.get(question.key)
            self.fields[question.key] = forms.ChoiceField(
                label=question.label,
                choices=ANSWER_CHOICES,
                widget=forms.RadioSelect,
                initial=current.answer if current else Answer.UNKNOWN,
            )
            self.fields[f"{question.key}__note"] = forms.CharField(
                label=_("Note"),
                required=False,
                max_length=300,
                initial=current.note if current else "",
            )

    @staticmethod
    def rest_answered_no(data):
        """The posted answers with every question left unknown (or not sent) answered no."""
        data = data.copy()
        for question in QUESTIONS:
            if data.get(question.key) in (None, "", Answer.UNKNOWN):
                data[question.key] = Answer.NO
        return data

    def groups(self) -> list[tuple]:
        """(heading, [(answer field, note field)]) for the template."""
        headings = {
            Kind.ABSOLUTE: _("Absolute contraindications: a yes blocks treatment"),
            Kind.RELATIVE: _("Relative contraindications: the doctor must review a yes"),
            Kind.HISTORY: _("Earlier vein treatment"),
        }
        return [
            (
                headings[kind],
                [(self[q.key], self[f"{q.key}__note"]) for q in QUESTIONS if q.kind == kind],
            )
            for kind in (Kind.ABSOLUTE, Kind.RELATIVE, Kind.HISTORY)
        ]

    def answers(self) -> dict[str, tuple[str, str]]:
        return {
            q.key: (self.cleaned_data[q.key], self.cleaned_data[f"{q.key}__note"].strip())
            for q in QUESTIONS
        }


class MergeForm(forms.Form):
    duplicate_id = forms.IntegerField(
        label=_("Record number of the duplicate"),
        min_value=1,
        help_text=_("Everything on the duplicate moves to this record; the duplicate is closed."),
    )
    reason = forms.CharField(
        label=_("Why are these the same person?"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("Say why these records are the same person."))
        return reason


class SearchForm(forms.Form):
    q = forms.CharField(
        label=_("Find a patient"),
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={
                "placeholder": _("Name, phone, email or date of birth"),
                "autofocus": True,
                "type": "search",
                "autocomplete": "off",
                "class": "form-control",
            }
        ),
    )
