"""Administrators change the clinic's clinical numbers and the aftercare messages here.
Patients' plans and charts are not in the admin: every read of them goes through audited pages."""

from django import forms
from django.contrib import admin
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from . import aftercare
from .models import AdverseEventType, AftercareStep, AgentSetting, ClinicSettings


class ClinicSettingsForm(forms.ModelForm):
    # Ticks from the list of adverse events, so only known types are saved.
    alerting_event_types = forms.MultipleChoiceField(
        label=_("Adverse events that alert the treating doctor"),
        help_text=_(
            "An event of a ticked kind emails the treating doctor and stays on their home page "
            "until it is resolved and they have seen it."
        ),
        choices=AdverseEventType.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    class Meta:
        model = ClinicSettings
        fields = ["alerting_event_types"]  # the admin adds the others from its fieldsets

    def clean_alerting_event_types(self) -> list[str]:
        return sorted(set(self.cleaned_data["alerting_event_types"]))


@admin.register(ClinicSettings)
class ClinicSettingsAdmin(admin.ModelAdmin):
    form = ClinicSettingsForm
    fieldsets = (
        (None, {"fields": ("sessions_min", "sessions_default", "sessions_max")}),
        (None, {"fields": ("small_plan_max_areas", "large_plan_min_areas")}),
        (None, {"fields": ("interval_weeks", "hose_days", "touch_up_months")}),
        (
            _("Aftercare"),
            {
                "fields": (
                    "rest_days",
                    ("walk_minutes_min", "walk_minutes_max"),
                    "normal_activity_hours",
                    "aftercare_hour",
                )
            },
        ),
        (
            None,
            {"fields": ("session_minutes_min", "session_minutes_max", "minutes_per_extra_area")},
        ),
        # Each agent's own maximum is with the agent ("Agents"); this is all foam together.
        (None, {"fields": ("foam_max_ml",)}),
        (None, {"fields": ("injection_ml_min", "injection_ml_max")}),
        (None, {"fields": ("warning_signs",)}),
        (None, {"fields": ("alerting_event_types",)}),
    )

    def has_add_permission(self, request):
        # One row: made by get_clinic_settings() the first time it is needed.
        return not ClinicSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


class AftercareStepForm(forms.ModelForm):
    """Refuses a text with a placeholder the clinic does not know, here rather than when the
    message is sent."""

    class Meta:
        model = AftercareStep
        fields = [
            "key",
            "order",
            "title",
            "anchor",
            "offset_days",
            "email_subject",
            "email_body",
            "sms_text",
            "active",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "email_body" in self.fields:
            self.fields["email_body"].help_text = placeholders_help()

    def _checked(self, name: str) -> str:
        text = self.cleaned_data.get(name, "")
        wrong = aftercare.problems(text)
        if wrong:
            raise forms.ValidationError(
                [*wrong, _("The placeholders are: %(names)s.") % {"names": _names()}]
            )
        return text

    def clean_title(self):
        return self._checked("title")

    def clean_email_subject(self):
        return self._checked("email_subject")

    def clean_email_body(self):
        return self._checked("email_body")

    def clean_sms_text(self):
        return self._checked("sms_text")


def _names() -> str:
    return ", ".join(f"{{{name}}}" for name in aftercare.PLACEHOLDERS)


def placeholders_help():
    """The placeholders and what each stands for, under the email text."""
    return format_html(
        "{}{}",
        _("The numbers come from the settings through these placeholders (in any text):"),
        format_html_join("", "<br><code>{{{}}}</code>: {}", aftercare.PLACEHOLDERS.items()),
    )


@admin.register(AftercareStep)
class AftercareStepAdmin(admin.ModelAdmin):
    form = AftercareStepForm
    list_display = ("order", "title", "anchor", "offset_days", "active")
    list_display_links = ("title",)
    list_editable = ("order", "active")
    prepopulated_fields = {"key": ("title",)}


@admin.register(AgentSetting)
class AgentSettingAdmin(admin.ModelAdmin):
    list_display = (
        "agent",
        "concentration_min",
        "concentration_max",
        "foam_allowed",
        "session_max_ml",
        "active",
    )
    list_editable = list_display[1:]

    def has_delete_permission(self, request, obj=None):
        # Turn an agent off instead: old charts still name it.
        return False
