"""Forms of the offices' set-up pages (administrators): an office, a room, a doctor's hours."""

from functools import cache
from zoneinfo import available_timezones

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from goodskin import widgets
from goodskin.fields import refuse_hidden_characters

from .forms import DoctorChoiceField, TimeInput
from .models import Kind, Location, Weekday
from .slots import doctors


@cache
def _zones() -> list[tuple[str, str]]:
    """Every time zone the machine knows: read from disk once per process (a walk of the
    tz database's files, 20 ms, twice a page)."""
    return [(name, name) for name in sorted(available_timezones())]


class OfficeForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100, validators=[refuse_hidden_characters])
    address = forms.CharField(
        label=_("Address"),
        max_length=300,
        required=False,
        validators=[refuse_hidden_characters],
        help_text=_("As patients read it in their messages and calendars."),
    )
    phone = forms.CharField(
        label=_("Phone"), max_length=30, required=False, validators=[refuse_hidden_characters]
    )
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        choices=_zones,
        initial=settings.CLINIC_TIME_ZONE,
        widget=widgets.Select,  # about 600 zones: written in Python
    )
    active = forms.BooleanField(
        label=_("In use"),
        required=False,
        initial=True,
        help_text=_("An office out of use offers no free times; its past visits stay."),
    )
    kinds = forms.MultipleChoiceField(
        label=_("Kinds of visit offered"),
        choices=Kind.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=Kind.values,
        error_messages={"required": _("Choose at least one kind of visit.")},
    )

    @classmethod
    def of(cls, office: Location, data=None) -> "OfficeForm":
        fields = ("name", "address", "phone", "time_zone", "active", "kinds")
        return cls(data, initial={name: getattr(office, name) for name in fields})

    def clean_name(self) -> str:
        return self.cleaned_data["name"].strip()


class RoomForm(forms.Form):
    name = forms.CharField(label=_("Room"), max_length=50, validators=[refuse_hidden_characters])
    active = forms.BooleanField(label=_("In use"), required=False, initial=True)

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError(_("Give the room a name."))
        return name


class HoursForm(forms.Form):
    doctor = DoctorChoiceField(label=_("Doctor"), queryset=None)
    weekday = forms.TypedChoiceField(label=_("Day"), choices=Weekday.choices, coerce=int)
    starts = forms.TimeField(label=_("From (office time)"), widget=TimeInput())
    ends = forms.TimeField(label=_("Until (office time)"), widget=TimeInput())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["doctor"].queryset = doctors()

    def clean(self):
        data = super().clean()
        starts, ends = data.get("starts"), data.get("ends")
        if starts and ends and ends <= starts:
            self.add_error("ends", _("The hours end after they start."))
        return data
