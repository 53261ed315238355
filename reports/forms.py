"""The period and the filters of every report (a GET form: the address keeps the choice)."""

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from goodskin.fields import BoundedDateField, browse_window
from goodskin.roles import GROUP_NAMES, Role
from patients.forms import DateInput
from scheduling.models import Location

from .period import MAX_DAYS, Period, default_dates


class DoctorField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.get_full_name() or obj.get_username()


def report_doctors():
    """Every doctor, those who have left too: the period may be before they left."""
    return (
        get_user_model()
        .objects.filter(groups__name=GROUP_NAMES[Role.DOCTOR])
        .order_by("last_name", "first_name", "pk")
    )


class ReportForm(forms.Form):
    first_day = BoundedDateField(
        label=_("From"), required=False, window=browse_window, widget=DateInput()
    )
    last_day = BoundedDateField(
        label=_("Until"), required=False, window=browse_window, widget=DateInput()
    )
    office = forms.ModelChoiceField(
        label=_("Office"),
        queryset=Location.objects.order_by("-active", "name", "pk"),
        required=False,
        empty_label=_("All offices"),
    )
    doctor = DoctorField(
        label=_("Doctor"), queryset=report_doctors(), required=False, empty_label=_("All doctors")
    )

    def clean(self):
        data = super().clean()
        if "first_day" not in data or "last_day" not in data:
            return data  # a date already refused
        first, last = default_dates()
        data["first_day"] = data["first_day"] or first
        data["last_day"] = data["last_day"] or last
        if data["last_day"] < data["first_day"]:
            self.add_error(None, _("The end of the period is before its start."))
        elif (data["last_day"] - data["first_day"]).days >= MAX_DAYS:
            self.add_error(
                None, _("Choose a period of at most three years: the chart can't show more.")
            )
        return data

    def period(self) -> Period:
        data = self.cleaned_data
        return Period(data["first_day"], data["last_day"], data["office"], data["doctor"])
