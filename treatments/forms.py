"""Forms for consultations, plans, session charts, amendments and adverse events. They check
shape and range; the services check the clinical rules and the forms show their message."""

import uuid
from decimal import Decimal

from crispy_forms.helper import FormHelper
from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from goodskin import when
from goodskin.fields import BoundedDateField, limit_text
from patients.forms import DateInput

from . import regions
from .models import (
    CLEARANCE_REASON_MAX,
    COSIGN_NOTE_MAX,
    INJECTIONS_MAX,
    INJECTIONS_MIN,
    VOLUME_ML_MAX,
    VOLUME_ML_MIN,
    AdverseEvent,
    AdverseEventFollowUp,
    Agent,
    AgentForm,
    Ceap,
    ClinicSettings,
    Consultation,
    Decision,
    TreatedArea,
    VesselType,
)
from .selectors import agent_choices, agent_settings
from .services import AMENDABLE, AREA_AMENDABLE, area_fingerprint

# Dates further back than this are typing mistakes, not late charting.
OLDEST_DAYS = 366 * 2


def _helper() -> FormHelper:
    helper = FormHelper()
    helper.form_tag = False
    helper.disable_csrf = True
    return helper


def _check_date(value):
    today = timezone.localdate()
    if value > today:
        raise forms.ValidationError(_("The date can't be in the future."))
    if (today - value).days > OLDEST_DAYS:
        raise forms.ValidationError(_("The date is more than two years ago. Check the year."))
    return value


class TokenMixin(forms.Form):
    """A token per opened form: a second post of the same form is recognised, not saved twice."""

    form_token = forms.UUIDField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("form_token", uuid.uuid4())
        # A note from a model TextField gets a limit too.
        limit_text(self)


class ConsultationForm(TokenMixin, forms.ModelForm):
    vessels_right = forms.MultipleChoiceField(
        label=_("Vessels seen, right leg"),
        choices=VesselType.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    vessels_left = forms.MultipleChoiceField(
        label=_("Vessels seen, left leg"),
        choices=VesselType.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    acknowledged = forms.MultipleChoiceField(
        label=_("I have discussed each of these with the patient"),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    class Meta:
        model = Consultation
        fields = [
            "held_on",
            "ceap_right",
            "ceap_left",
            "vessels_right",
            "vessels_left",
            "decision",
            "varicose_override",
            "varicose_override_reason",
            "notes",
        ]
        widgets = {
            "held_on": DateInput(),
            "decision": forms.RadioSelect,
            "varicose_override_reason": forms.Textarea(attrs={"rows": 2}),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }
        field_classes = {"held_on": BoundedDateField}

    def __init__(self, *args, screening, **kwargs):
        super().__init__(*args, **kwargs)
        self.screening = screening
        self.fields["held_on"].initial = timezone.localdate()
        self.fields["ceap_right"].initial = self.fields["ceap_left"].initial = Ceap.C1
        self.fields["acknowledged"].choices = [
            (q.key, q.label if q in screening.relative else _("%s: not known") % q.label)
            for q in screening.to_acknowledge
        ]
        if not screening.to_acknowledge:
            del self.fields["acknowledged"]
        if not screening.untreated_varicose:
            del self.fields["varicose_override"]
            del self.fields["varicose_override_reason"]
        self.helper = _helper()

    def clean_held_on(self):
        return _check_date(self.cleaned_data["held_on"])

    def clean(self):
        data = super().clean()
        ticked = set(data.get("acknowledged") or [])
        if any(q.key not in ticked for q in self.screening.relative):
            self.add_error(
                "acknowledged", _("Tick every relative contraindication to acknowledge it.")
            )
        if (
            data.get("varicose_override")
            and not (data.get("varicose_override_reason") or "").strip()
        ):
            self.add_error("varicose_override_reason", _("Write why you override."))
        allows = data.get("decision") in (Decision.ELIGIBLE, Decision.PRECAUTIONS)
        if allows and self.screening.missing:
            self.add_error(
                "decision",
                ngettext(
                    "%(n)d screening question has no answer yet: answer it first.",
                    "%(n)d screening questions have no answer yet: answer them first.",
                    len(self.screening.missing),
                )
                % {"n": len(self.screening.missing)},
            )
        if allows and any(q.key not in ticked for q in self.screening.unknown):
            self.add_error(
                "acknowledged", _("Tick each answer the patient did not know to acknowledge it.")
            )
        if allows and self.screening.blocks_plan:
            self.add_error(
                "decision", _("An absolute contraindication was answered yes: choose another.")
            )
        return data

    def service_data(self) -> dict:
        data = {name: self.cleaned_data.get(name) for name in self.Meta.fields}
        data["varicose_override"] = bool(data.get("varicose_override"))
        data["varicose_override_reason"] = data.get("varicose_override_reason") or ""
        return data


class AreaChoiceField(forms.MultipleChoiceField):
    default_error_messages = {
        "invalid_choice": _("One of the areas does not exist. Choose areas from the diagram."),
    }

    def __init__(self, **kwargs):
        widget = forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"})
        super().__init__(choices=regions.CHOICES, widget=widget, **kwargs)


VESSELS_SHORT = [
    (VesselType.SPIDER, _("Spider veins (< 1 mm)")),
    (VesselType.RETICULAR, _("Reticular veins (1–3 mm)")),
    (VesselType.VARICOSE, _("Varicose veins (> 3 mm)")),
]


class ConsultationChoiceField(forms.ModelChoiceField):
    """A consultation by its day and doctor: "Consultation of November 29, 2026, Dr Lee"."""

    def label_from_instance(self, obj) -> str:
        return _("Consultation of %(day)s, Dr %(doctor)s") % {
            "day": when.birthday(obj.held_on),
            "doctor": obj.doctor.get_full_name() or obj.doctor.get_username(),
        }


class PlanForm(TokenMixin, forms.Form):
    consultation = ConsultationChoiceField(label=_("Consultation"), queryset=Consultation.objects)
    areas = AreaChoiceField(label=_("Areas to treat"))
    sessions = forms.IntegerField(label=_("Number of sessions"), required=False)
    interval_weeks = forms.IntegerField(
        label=_("Weeks between sessions"), min_value=1, max_value=26
    )
    hose_days = forms.IntegerField(
        label=_("Days of support hose after each session"), min_value=0, max_value=60
    )
    start = forms.BooleanField(label=_("Start the plan now"), required=False, initial=True)
    notes = forms.CharField(
        label=_("Notes"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    override_reason = forms.CharField(
        label=_("Override: why treat anyway"),
        help_text=_(
            "Only when the screening or a leg's CEAP class blocks treatment. Kept with the plan, "
            "with your name and the time."
        ),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=CLEARANCE_REASON_MAX,
        required=False,
    )

    def __init__(self, *args, patient, clinic: ClinicSettings, **kwargs):
        super().__init__(*args, **kwargs)
        self.clinic = clinic
        consultations = patient.consultations.select_related("doctor").order_by("-held_on", "-id")
        self.fields["consultation"].queryset = consultations.filter(
            decision__in=[Decision.ELIGIBLE, Decision.PRECAUTIONS]
        )
        self.fields["consultation"].initial = self.fields["consultation"].queryset.first()
        sessions = self.fields["sessions"]
        sessions.min_value, sessions.max_value = clinic.sessions_min, clinic.sessions_max
        sessions.widget.attrs.update({"min": clinic.sessions_min, "max": clinic.sessions_max})
        sessions.help_text = _(
            "Suggested: %(small)d for up to %(few)d areas, %(usual)d for an average plan, "
            "%(large)d from %(many)d areas. Leave empty to use the suggestion."
        ) % {
            "small": clinic.sessions_min,
            "few": clinic.small_plan_max_areas,
            "usual": clinic.sessions_default,
            "large": clinic.sessions_max,
            "many": clinic.large_plan_min_areas,
        }
        self.fields["interval_weeks"].initial = clinic.interval_weeks
        self.fields["hose_days"].initial = clinic.hose_days
        self.helper = _helper()

    def clean_sessions(self):
        value = self.cleaned_data.get("sessions")
        if value is not None and not self.clinic.sessions_min <= value <= self.clinic.sessions_max:
            raise forms.ValidationError(
                _("A plan has between %(min)d and %(max)d sessions.")
                % {"min": self.clinic.sessions_min, "max": self.clinic.sessions_max}
            )
        return value

    def clean(self):
        data = super().clean()
        if data.get("areas") and data.get("sessions") is None and not self.has_error("sessions"):
            data["sessions"] = self.clinic.suggested_sessions(len(data["areas"]))
        return data


class ChartForm(TokenMixin, forms.Form):
    treated_on = BoundedDateField(label=_("Date of the session"), widget=DateInput())
    regions = AreaChoiceField(label=_("Treated areas"))
    immediate_reactions = forms.CharField(
        label=_("Immediate reactions"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=2000,
    )
    compression = forms.CharField(label=_("Compression prescribed"), max_length=200, required=False)
    notes = forms.CharField(
        label=_("Notes"), widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=5000
    )
    sign = forms.BooleanField(label=_("Sign the chart now"), required=False, initial=True)
    confirm_volumes = forms.BooleanField(label=_("I confirm these volumes"), required=False)

    def __init__(self, *args, clinic: ClinicSettings, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["treated_on"].initial = timezone.localdate()
        self.fields["compression"].initial = _("Support hose for %(days)d days") % {
            "days": clinic.hose_days
        }

    def clean_treated_on(self):
        return _check_date(self.cleaned_data["treated_on"])


class AreaForm(forms.Form):
    """The details of one treated area; one per region, named area-<region key>-<field>."""

    # Short labels: the whole text fits the chart's table (the record keeps the long ones).
    vessel_type = forms.ChoiceField(label=_("Vessels"), choices=VESSELS_SHORT)
    agent = forms.ChoiceField(label=_("Agent"), choices=Agent.choices)
    concentration = forms.DecimalField(
        label=_("Concentration (%)"),
        max_digits=4,
        decimal_places=2,
        min_value=Decimal("0.01"),
        max_value=Decimal(72),
    )
    form = forms.ChoiceField(label=_("Liquid or foam"), choices=AgentForm.choices)
    volume_ml = forms.DecimalField(
        label=_("Volume (mL)"),
        max_digits=4,
        decimal_places=2,
        min_value=VOLUME_ML_MIN,
        max_value=VOLUME_ML_MAX,
    )
    injections = forms.IntegerField(
        label=_("Injections"), min_value=INJECTIONS_MIN, max_value=INJECTIONS_MAX
    )

    def __init__(self, *args, region: str, agents: dict, keep_agent: str = "", **kwargs):
        kwargs.setdefault("prefix", f"area-{region}")
        super().__init__(*args, **kwargs)
        self.agents = agents  # selectors.agent_settings(), shared by a chart's area forms
        self.keep_agent = keep_agent  # see services.check_area
        self.region = region
        self.region_label = regions.label(region)
        agent = self.fields["agent"]
        agent.choices = agent_choices(agents, keep=keep_agent)
        agent.error_messages["required"] = _(
            "No agent is in use at the clinic: an administrator turns one on in the settings."
        )
        agent.error_messages["invalid_choice"] = _(
            "This agent is not in use at the clinic. Choose one from the list."
        )
        offered = [value for value, _label in agent.choices]
        self.initial = {
            "vessel_type": VesselType.SPIDER,
            "agent": Agent.POLIDOCANOL if Agent.POLIDOCANOL in offered else next(iter(offered), ""),
            "concentration": Decimal("0.5"),
            "form": AgentForm.LIQUID,
            **self.initial,
        }

    def clean(self):
        from .services import check_area

        data = super().clean()
        # Only this area's own errors hide the rule check (a form built on it may add fields).
        broken = set(self.errors) & set(AreaForm.declared_fields)
        problem = (
            None
            if broken
            else check_area(
                {**data, "region": self.region},
                foam_blocked=False,
                agents=self.agents,
                keep_agent=self.keep_agent,
            )
        )
        if problem:
            raise forms.ValidationError(problem)
        return data


class ChartForms:
    """The chart form and one area form per region; only the chosen regions' rows are read."""

    def __init__(self, data=None, *, clinic: ClinicSettings):
        self.main = ChartForm(data, clinic=clinic)
        # Read once for every area row (their agent menus and checks) and the volume maxima.
        self.agents = agent_settings()
        self.areas = [
            AreaForm(data, region=key, agents=self.agents) for key, _label in regions.CHOICES
        ]
        self.chosen: list[str] = []
        if data is not None:
            self.chosen = [k for k in data.getlist("regions") if regions.is_region(k)]

    def rows(self):
        """(area form, shown) in region order; hidden rows are not chosen."""
        return [(form, form.region in self.chosen) for form in self.areas]

    def is_valid(self) -> bool:
        valid = self.main.is_valid()
        for form in self.areas:
            if form.region in self.chosen:
                valid = form.is_valid() and valid
        return valid

    def area_data(self) -> list[dict]:
        return [
            {"region": f.region, **f.cleaned_data}
            for f in self.areas
            if f.region in self.main.cleaned_data["regions"]
        ]

    @property
    def area_errors(self) -> bool:
        return any(f.errors for f in self.areas if f.region in self.chosen)


class ReasonMixin(forms.Form):
    """The reason for a change, required once the chart is signed (the change is an amendment)."""

    reason = forms.CharField(
        label=_("Reason for the change"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=2000,
    )

    def __init__(self, *args, signed: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.signed = signed
        self.fields["reason"].required = signed
        self.fields["reason"].error_messages["required"] = _(
            "A signed chart needs a reason for every change."
        )
        self.helper = _helper()

    def clean_reason(self):
        reason = self.cleaned_data.get("reason", "").strip()
        if self.signed and not reason:
            raise forms.ValidationError(_("A signed chart needs a reason for every change."))
        return reason


class AmendForm(ReasonMixin, forms.Form):
    field = forms.ChoiceField(
        label=_("Part of the chart"),
        choices=list(
            zip(
                AMENDABLE,
                [_("Immediate reactions"), _("Compression prescribed"), _("Notes")],
                strict=True,
            )
        ),
    )
    new_text = forms.CharField(
        label=_("New text"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=5000,
    )
    field_order = ["field", "new_text", "reason"]


class AreaAmendForm(ReasonMixin, AreaForm):
    """Correct one treated area of a chart: its values as charted, checked as a new chart's are,
    and why."""

    # The values the page started from (see services.area_fingerprint).
    shown = forms.CharField(widget=forms.HiddenInput, max_length=300)
    confirm_volumes = forms.BooleanField(label=_("I confirm these volumes"), required=False)

    def __init__(self, *args, area: TreatedArea, signed: bool, **kwargs):
        initial = {name: getattr(area, name) for name in AREA_AMENDABLE}
        initial["shown"] = area_fingerprint(area)
        super().__init__(
            *args,
            signed=signed,
            region=area.region,
            prefix=None,
            initial=initial,
            agents=agent_settings(),
            keep_agent=area.agent,
            **kwargs,
        )

    def service_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in AREA_AMENDABLE}


class ClearanceForm(forms.Form):
    """A doctor lets treatment go ahead despite what the gate found: the problems shown
    (`key`), for the next visit or the whole plan, and why."""

    VISIT, PLAN = "visit", "plan"

    key = forms.MultipleChoiceField(widget=forms.MultipleHiddenInput)
    scope = forms.ChoiceField(label=_("For"), widget=forms.RadioSelect, initial=VISIT, choices=[])
    reason = forms.CharField(
        label=_("Why treatment goes ahead"),
        help_text=_("Needed for an override; an acknowledgment may leave it empty."),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=CLEARANCE_REASON_MAX,
        required=False,
    )

    def __init__(self, *args, keys: list[str], visit: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["key"].choices = [(key, key) for key in keys]
        self.fields["key"].initial = keys
        self.fields["scope"].choices = [
            (self.VISIT, _("the next visit only (visit %(n)d)") % {"n": visit}),
            (self.PLAN, _("the whole plan")),
        ]
        self.visit = visit

    def session(self) -> int | None:
        return self.visit if self.cleaned_data["scope"] == self.VISIT else None


class StopPlanForm(forms.Form):
    reason = forms.CharField(
        label=_("Why does the plan stop?"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
    )


class CosignForm(forms.Form):
    note = forms.CharField(
        label=_("Note (optional)"),
        max_length=COSIGN_NOTE_MAX,
        required=False,
        help_text=_("A short remark shown beside your co-signature."),
    )


def _chart_choice(chart) -> str:
    day = when.birthday(chart.treated_on)
    if chart.is_touch_up:
        return _("Touch-up, %(day)s") % {"day": day}
    return _("Session %(n)d, %(day)s") % {"n": chart.number, "day": day}


class AdverseEventForm(TokenMixin, forms.ModelForm):
    class Meta:
        model = AdverseEvent
        fields = [
            "type",
            "onset_on",
            "severity",
            "region",
            "chart",
            "management",
            "follow_up_needed",
            "resolved_on",
        ]
        widgets = {
            "onset_on": DateInput(),
            "resolved_on": DateInput(),
            "management": forms.Textarea(attrs={"rows": 3}),
        }
        field_classes = {"onset_on": BoundedDateField, "resolved_on": BoundedDateField}
        labels = {"chart": _("After session")}

    def __init__(self, *args, plan, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["chart"].queryset = plan.charts.order_by("number")
        self.fields["chart"].label_from_instance = _chart_choice
        self.fields["region"].error_messages["invalid_choice"] = _(
            "One of the areas does not exist. Choose areas from the diagram."
        )
        self.helper = _helper()

    def clean_onset_on(self):
        return _check_date(self.cleaned_data["onset_on"])

    def clean(self):
        data = super().clean()
        onset, resolved = data.get("onset_on"), data.get("resolved_on")
        if onset and resolved and resolved < onset:
            self.add_error("resolved_on", _("An event can't resolve before it began."))
        if resolved and resolved > timezone.localdate():
            self.add_error("resolved_on", _("The date can't be in the future."))
        return data

    def service_data(self) -> dict:
        return {name: self.cleaned_data.get(name) for name in self.Meta.fields}


class FollowUpForm(TokenMixin, forms.ModelForm):
    """A dated follow-up entry; the service refuses a date before the onset or a closed event."""

    class Meta:
        model = AdverseEventFollowUp
        fields = ["on", "action", "outcome"]
        widgets = {
            "on": DateInput(),
            "action": forms.Textarea(attrs={"rows": 2}),
            "outcome": forms.Textarea(attrs={"rows": 2}),
        }
        field_classes = {"on": BoundedDateField}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="follow_up", **kwargs)
        self.helper = _helper()

    def clean_on(self):
        return _check_date(self.cleaned_data["on"])

    def service_data(self) -> dict:
        return {
            "on": self.cleaned_data["on"],
            "action": self.cleaned_data["action"],
            "outcome": self.cleaned_data["outcome"],
            "form_token": self.cleaned_data["form_token"],
        }


class CloseEventForm(forms.Form):
    resolved_on = BoundedDateField(label=_("Resolved on"), widget=DateInput())
    outcome = forms.CharField(
        label=_("Outcome"), widget=forms.Textarea(attrs={"rows": 2}), max_length=4000
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="close", **kwargs)
        self.helper = _helper()

    def clean_resolved_on(self):
        return _check_date(self.cleaned_data["resolved_on"])


class CheckInNoteForm(forms.Form):
    """What was done about an answer to the safety check-in, or what came of a call."""

    note = forms.CharField(max_length=1000, strip=True)
