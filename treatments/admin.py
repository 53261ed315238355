"""Administrators change the clinic's clinical numbers and the aftercare messages here.
Patients' plans and charts are not in the admin: every read of them goes through audited pages."""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

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


@admin.register(AftercareStep)
class AftercareStepAdmin(admin.ModelAdmin):
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
