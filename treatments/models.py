"""Consultations, treatment plans, session charts, adverse events and the aftercare programme,
with the clinic's settings that hold every clinical number (defaults: the clinic's own page)."""

from datetime import date, timedelta
from decimal import Decimal
from typing import NamedTuple

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from goodskin import when
from patients.models import Patient
from patients.screening import BY_KEY as SCREENING_QUESTIONS

from . import regions

User = settings.AUTH_USER_MODEL


def add_months(day: date, months: int) -> date:
    """The same day `months` later; the 31st becomes the last day of a shorter month."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return day.replace(year=year, month=month, day=candidate)
        except ValueError:
            continue
    raise ValueError(day)


class AdverseEventType(models.TextChoices):
    BRUISING = "bruising", _("Bruising")
    PAIN_ITCHING = "pain_itching", _("Pain, itching or hives")
    HYPERPIGMENTATION = "hyperpigmentation", _("Browning (hyperpigmentation)")
    MATTING = "matting", _("“Blush” (telangiectatic matting)")
    TRAPPED_BLOOD = "trapped_blood", _("Trapped blood")
    THROMBOPHLEBITIS = "thrombophlebitis", _("Superficial thrombophlebitis")
    ULCER = "ulcer", _("Skin ulcer or necrosis")
    INFECTION = "infection", _("Infection")
    ALLERGIC = "allergic", _("Allergic reaction or anaphylaxis")
    SUSPECTED_DVT = "suspected_dvt", _("Suspected deep vein thrombosis")
    DVT = "dvt", _("Deep vein thrombosis")
    PE = "pe", _("Pulmonary embolism")
    VISUAL_NEURO = "visual_neuro", _("Visual or neurological symptoms")


def default_alerting_types() -> list[str]:
    """The events that alert the treating doctor until an administrator changes the list: the
    issue's (thrombophlebitis, DVT or suspected DVT, allergic reaction, ulcer, visual symptoms)
    and the two that alerted before it (pulmonary embolism, infection), so none goes quiet."""
    return sorted(
        t.value
        for t in (
            AdverseEventType.THROMBOPHLEBITIS,
            AdverseEventType.SUSPECTED_DVT,
            AdverseEventType.DVT,
            AdverseEventType.ALLERGIC,
            AdverseEventType.ULCER,
            AdverseEventType.VISUAL_NEURO,
            AdverseEventType.PE,
            AdverseEventType.INFECTION,
        )
    )


def validate_event_types(value) -> None:
    if not isinstance(value, list) or not all(v in AdverseEventType.values for v in value):
        raise ValidationError(_("Choose adverse events from the list."))


# The seeded warning signs, marked for translation: sent in the patient's language while the
# clinic keeps them as they are (ClinicSettings.warning_signs_text).
WARNING_SIGNS = gettext_noop(
    "Call the clinic, or emergency services (911) if it is severe, if you have: pain or "
    "swelling in the calf, chest pain or trouble breathing, changes in your sight, "
    "weakness or numbness, an open sore, or redness that spreads."
)


class ClinicSettings(models.Model):
    """One row: the clinic's clinical numbers, changed by an administrator in the Django admin."""

    sessions_min = models.PositiveSmallIntegerField(_("fewest sessions in a plan"), default=2)
    sessions_default = models.PositiveSmallIntegerField(_("usual sessions in a plan"), default=4)
    sessions_max = models.PositiveSmallIntegerField(_("most sessions in a plan"), default=6)
    # The plan form suggests the fewest sessions up to this many areas, the most from the next.
    small_plan_max_areas = models.PositiveSmallIntegerField(
        _("a small plan has at most this many areas"), default=3
    )
    large_plan_min_areas = models.PositiveSmallIntegerField(
        _("a large plan has at least this many areas"), default=9
    )
    interval_weeks = models.PositiveSmallIntegerField(
        _("weeks between sessions on the same area"), default=4
    )
    hose_days = models.PositiveSmallIntegerField(
        _("days of support hose after a session"), default=14
    )
    session_minutes_min = models.PositiveSmallIntegerField(
        _("shortest session (minutes)"), default=15
    )
    session_minutes_max = models.PositiveSmallIntegerField(
        _("longest session (minutes)"), default=25
    )
    minutes_per_extra_area = models.PositiveSmallIntegerField(
        _("minutes added for each area after the first"), default=2
    )
    # All foam of a session together, whatever the agents (CLINICAL.md: about 10 mL per
    # session); each agent's own maximum is on its AgentSetting.
    foam_max_ml = models.DecimalField(
        _("most foam per session (mL)"), max_digits=5, decimal_places=2, default=Decimal(10)
    )
    # The usual volume per injection (CLINICAL.md, polidocanol label): outside it a chart is
    # saved only once the doctor confirms the volumes.
    injection_ml_min = models.DecimalField(
        _("least usual volume per injection (mL)"),
        max_digits=4,
        decimal_places=2,
        default=Decimal("0.1"),
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    injection_ml_max = models.DecimalField(
        _("most usual volume per injection (mL)"),
        max_digits=4,
        decimal_places=2,
        default=Decimal("0.3"),
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    touch_up_months = models.PositiveSmallIntegerField(
        _("months after a plan ends until the touch-up review"), default=12
    )
    # Screening answers older than this are confirmed with the patient at the next check-in.
    rescreen_months = models.PositiveSmallIntegerField(
        _("months after which the screening is asked again at check-in"),
        default=6,
        validators=[MinValueValidator(1)],
    )
    # The numbers the aftercare texts speak of (treatments.aftercare fills them in); a plan's
    # own hose days and interval come before the clinic's.
    rest_days = models.PositiveSmallIntegerField(
        _("days after the session day with no heavy exercise, hot baths, sun or long flights"),
        default=3,
        validators=[MaxValueValidator(60)],
        help_text=_(
            "3 means the day of the session and the 3 days after it; the message that they may "
            "exercise again comes the day after."
        ),
    )
    walk_minutes_min = models.PositiveSmallIntegerField(
        _("fewest minutes of walking right after a session"), default=15
    )
    walk_minutes_max = models.PositiveSmallIntegerField(
        _("most minutes of walking right after a session"), default=20
    )
    normal_activity_hours = models.PositiveSmallIntegerField(
        _("hours after a session until normal activities again"), default=24
    )
    # 6 to 21: never in the night hours that a change of the clocks skips or repeats.
    aftercare_hour = models.PositiveSmallIntegerField(
        _("aftercare messages of later days go out at this hour (clinic time)"),
        default=9,
        validators=[MinValueValidator(6), MaxValueValidator(21)],
    )
    warning_signs = models.TextField(
        _("warning signs (ends every after-session message)"), default=WARNING_SIGNS
    )
    # A list on the one row (not a table of its own): read with the rest of the settings, and
    # a fresh row made by get_clinic_settings() alerts on the defaults, never on nothing.
    alerting_event_types = models.JSONField(
        _("adverse events that alert the treating doctor"),
        default=default_alerting_types,
        blank=True,
        validators=[validate_event_types],
    )

    class Meta:
        verbose_name = _("clinic settings")
        verbose_name_plural = _("clinic settings")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(sessions_min__gte=1)
                & models.Q(sessions_min__lte=models.F("sessions_default"))
                & models.Q(sessions_default__lte=models.F("sessions_max")),
                name="sessions_min_default_max_in_order",
            ),
            models.CheckConstraint(
                condition=models.Q(session_minutes_min__lte=models.F("session_minutes_max")),
                name="session_minutes_in_order",
            ),
            models.CheckConstraint(
                condition=models.Q(injection_ml_min__gt=0)
                & models.Q(injection_ml_min__lte=models.F("injection_ml_max")),
                name="injection_ml_in_order",
            ),
            models.CheckConstraint(
                condition=models.Q(walk_minutes_min__lte=models.F("walk_minutes_max")),
                name="walk_minutes_in_order",
                violation_error_message=_(
                    "The fewest minutes of walking can't be more than the most."
                ),
            ),
            models.CheckConstraint(
                condition=models.Q(aftercare_hour__gte=6) & models.Q(aftercare_hour__lte=21),
                name="aftercare_hour_by_day",
            ),
        ]

    def __str__(self) -> str:
        return str(_("Clinic settings"))

    def warning_signs_text(self) -> str:
        """The warning signs in the active language: the seeded text is translated, a text the
        clinic wrote itself is sent as it wrote it."""
        text = self.warning_signs.strip()
        return gettext(text) if text == WARNING_SIGNS else text

    def suggested_sessions(self, area_count: int) -> int:
        if area_count <= self.small_plan_max_areas:
            return self.sessions_min
        if area_count >= self.large_plan_min_areas:
            return self.sessions_max
        return self.sessions_default

    def session_minutes(self, area_count: int) -> int:
        minutes = self.session_minutes_min + self.minutes_per_extra_area * max(0, area_count - 1)
        return min(minutes, self.session_minutes_max)

    def alerts_on(self, event_type: str) -> bool:
        return event_type in self.alerting_event_types

    @property
    def alerting_labels(self) -> list[str]:
        return [str(label) for value, label in AdverseEventType.choices if self.alerts_on(value)]


class Ceap(models.TextChoices):
    C0 = "C0", _("C0 – no visible veins")
    C1 = "C1", _("C1 – spider or reticular veins")
    C2 = "C2", _("C2 – varicose veins")
    C3 = "C3", _("C3 – swelling (oedema)")
    C4 = "C4", _("C4 – skin changes")
    C5 = "C5", _("C5 – healed ulcer")
    C6 = "C6", _("C6 – open ulcer")


class VesselType(models.TextChoices):
    SPIDER = "spider", _("Spider veins (telangiectasia, under 1 mm)")
    RETICULAR = "reticular", _("Reticular veins (1–3 mm)")
    VARICOSE = "varicose", _("Varicose veins (over 3 mm)")


class Decision(models.TextChoices):
    ELIGIBLE = "eligible", _("Eligible")
    PRECAUTIONS = "precautions", _("Eligible with precautions")
    DEFERRED = "deferred", _("Deferred")
    NOT_ELIGIBLE = "not_eligible", _("Not eligible")


class Consultation(models.Model):
    """What the doctor found and decided at the consultation, with the screening as reviewed."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="consultations")
    doctor = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    held_on = models.DateField(_("date"))
    ceap_right = models.CharField(_("CEAP class, right leg"), max_length=2, choices=Ceap.choices)
    ceap_left = models.CharField(_("CEAP class, left leg"), max_length=2, choices=Ceap.choices)
    vessels_right = models.JSONField(_("vessels seen, right leg"), default=list)
    vessels_left = models.JSONField(_("vessels seen, left leg"), default=list)
    # The screening answers as the doctor saw them: {question key: answer}.
    screening_reviewed = models.JSONField(default=dict)
    # Relative contraindications answered yes that the doctor acknowledged (question keys).
    acknowledged = models.JSONField(default=list)
    decision = models.CharField(_("decision"), max_length=20, choices=Decision.choices)
    varicose_override = models.BooleanField(
        _("treat despite untreated varicose veins"), default=False
    )
    varicose_override_reason = models.TextField(_("why"), blank=True)
    varicose_override_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    varicose_override_at = models.DateTimeField(null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # A double-posted form carries the same token: the second post finds the first row.
    form_token = models.UUIDField(null=True, unique=True, editable=False)

    class Meta:
        ordering = ["-held_on", "-id"]
        indexes = [
            # The patient's consultations, newest first.
            models.Index(fields=["patient", "-held_on"], name="consultation_patient_idx"),
        ]

    def __str__(self) -> str:
        return f"consultation {self.pk} ({self.held_on})"

    @property
    def allows_plan(self) -> bool:
        return self.decision in (Decision.ELIGIBLE, Decision.PRECAUTIONS)


class PlanStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("Active")
    COMPLETED = "completed", _("Completed")
    STOPPED = "stopped", _("Stopped")


class TreatmentPlanQuerySet(models.QuerySet):
    def for_patient(self, patient: Patient):
        return self.filter(patient=patient)

    def with_chart_count(self):
        """`charted`: the plan's sessions charted (touch-ups are not among its sessions)."""
        return self.annotate(
            charted=models.Count("charts", filter=models.Q(charts__visit=Visit.SESSION))
        )


class TreatmentPlan(models.Model):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="treatment_plans")
    doctor = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    consultation = models.ForeignKey(Consultation, on_delete=models.PROTECT, related_name="plans")
    areas = models.JSONField(_("areas to treat"), default=list)
    sessions_planned = models.PositiveSmallIntegerField(_("number of sessions"))
    interval_weeks = models.PositiveSmallIntegerField(_("weeks between sessions"))
    hose_days = models.PositiveSmallIntegerField(_("days of support hose after each session"))
    session_minutes = models.PositiveSmallIntegerField(_("planned session length (minutes)"))
    status = models.CharField(
        _("status"), max_length=10, choices=PlanStatus.choices, default=PlanStatus.DRAFT
    )
    stop_reason = models.TextField(_("why the plan stopped"), blank=True)
    # Kept from the screening when the plan was made; the page also shows the current banner.
    estrogen_warning = models.BooleanField(default=False)
    touch_up_due = models.DateField(_("touch-up review due"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    completed_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    form_token = models.UUIDField(null=True, unique=True, editable=False)

    objects = TreatmentPlanQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The patient's plans, newest first (patient page, portal).
            models.Index(fields=["patient", "-created_at"], name="plan_patient_idx"),
        ]
        constraints = [
            # The clinic settings narrow this further; this keeps absurd rows out of the table.
            models.CheckConstraint(
                condition=models.Q(sessions_planned__gte=1) & models.Q(sessions_planned__lte=12),
                name="plan_sessions_in_range",
            ),
            models.CheckConstraint(
                condition=~models.Q(status=PlanStatus.STOPPED) | ~models.Q(stop_reason=""),
                name="stopped_plan_has_reason",
            ),
            # One active plan per patient: sessions, bookings and aftercare follow "the" plan.
            # The services check first; this refuses the second of two plans started at once.
            models.UniqueConstraint(
                fields=["patient"],
                condition=models.Q(status=PlanStatus.ACTIVE),
                name="one_active_plan_per_patient",
            ),
        ]

    def __str__(self) -> str:
        return f"plan {self.pk}"

    @property
    def title(self) -> str:
        """What pages call the plan: by the day it was made, never by its database id."""
        return gettext("Plan of %(day)s") % {
            "day": when.birthday(timezone.localdate(self.created_at))
        }

    @property
    def area_labels(self) -> list[str]:
        return [regions.label(key) for key in self.areas]

    @property
    def interval(self) -> timedelta:
        return timedelta(weeks=self.interval_weeks)


class Visit(models.TextChoices):
    """What a chart records: one of the plan's planned sessions, or a touch-up visit after the
    plan was completed (which is not one of its sessions)."""

    SESSION = "session", _("Session")
    TOUCH_UP = "touch_up", _("Touch-up")


class ChartQuerySet(models.QuerySet):
    def signed(self):
        return self.filter(signed_at__isnull=False)

    def sessions(self):
        return self.filter(visit=Visit.SESSION)

    def touch_ups(self):
        return self.filter(visit=Visit.TOUCH_UP)


class SessionChart(models.Model):
    """What was done at one session of a plan. Signed charts are changed only by amendments."""

    plan = models.ForeignKey(TreatmentPlan, on_delete=models.PROTECT, related_name="charts")
    # Sessions are 1..sessions_planned; a touch-up takes the plan's next number after them, so
    # a number names one chart of the plan and never one of its planned sessions.
    number = models.PositiveSmallIntegerField(_("session"))
    visit = models.CharField(
        _("visit"), max_length=10, choices=Visit.choices, default=Visit.SESSION
    )
    treated_on = models.DateField(_("date of the session"))
    doctor = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    immediate_reactions = models.TextField(_("immediate reactions"), blank=True)
    compression = models.CharField(_("compression prescribed"), max_length=200, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, related_name="+")
    # The doctor saved it despite volumes outside the usual range: what was warned, as shown.
    volumes_confirmed = models.BooleanField(_("volumes confirmed by the doctor"), default=False)
    volume_warnings = models.TextField(_("volume warnings confirmed"), blank=True)
    form_token = models.UUIDField(null=True, unique=True, editable=False)

    objects = ChartQuerySet.as_manager()

    class Meta:
        ordering = ["plan", "number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="one_chart_per_session"),
            models.CheckConstraint(condition=models.Q(number__gte=1), name="chart_number_positive"),
        ]

    def __str__(self) -> str:
        if self.is_touch_up:
            return f"touch-up {self.number} of plan {self.plan_id}"
        return f"session {self.number} of plan {self.plan_id}"

    @property
    def is_touch_up(self) -> bool:
        return self.visit == Visit.TOUCH_UP

    @property
    def is_signed(self) -> bool:
        return self.signed_at is not None


class Agent(models.TextChoices):
    POLIDOCANOL = "polidocanol", _("Polidocanol (Asclera)")
    STS = "sts", _("Sodium tetradecyl sulfate (STS)")
    SALINE = "saline", _("Hypertonic saline")
    GLYCERIN = "glycerin", _("Glycerin")


class AgentDefaults(NamedTuple):
    concentration_min: Decimal
    concentration_max: Decimal
    foam_allowed: bool
    session_max_ml: Decimal


# The product labels' ranges and maxima (CLINICAL.md): the agent settings start from these, and
# selectors.agent_settings() writes them again if the table is ever empty. CLINICAL.md gives
# no maximum for saline or glycerin: they keep the 10 mL every agent was held to before.
DEFAULT_AGENTS: dict[str, AgentDefaults] = {
    Agent.POLIDOCANOL: AgentDefaults(Decimal("0.5"), Decimal(1), True, Decimal(10)),
    Agent.STS: AgentDefaults(Decimal(1), Decimal(3), True, Decimal(10)),
    Agent.SALINE: AgentDefaults(Decimal("11.7"), Decimal("23.4"), False, Decimal(10)),
    Agent.GLYCERIN: AgentDefaults(Decimal(72), Decimal(72), False, Decimal(10)),
}


class AgentSetting(models.Model):
    """An agent the clinic uses: the concentrations a chart accepts, whether it may be foamed
    and how much of it a session holds before the chart warns. Administrators edit these in
    the Django admin."""

    agent = models.CharField(_("agent"), max_length=20, choices=Agent.choices, unique=True)
    concentration_min = models.DecimalField(
        _("lowest concentration (%)"), max_digits=4, decimal_places=2
    )
    concentration_max = models.DecimalField(
        _("highest concentration (%)"), max_digits=4, decimal_places=2
    )
    foam_allowed = models.BooleanField(_("may be used as foam"), default=False)
    # Above it (liquid and foam together) a chart is saved only once the doctor confirms.
    session_max_ml = models.DecimalField(
        _("most per session (mL)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal(10),
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    active = models.BooleanField(_("in use at the clinic"), default=True)

    class Meta:
        ordering = ["agent"]
        verbose_name = _("agent")
        verbose_name_plural = _("agents")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(concentration_min__gt=0)
                & models.Q(concentration_min__lte=models.F("concentration_max"))
                & models.Q(concentration_max__lte=100),
                name="agent_concentrations_in_order",
            ),
            models.CheckConstraint(
                condition=models.Q(session_max_ml__gt=0), name="agent_session_max_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.get_agent_display()


class AgentForm(models.TextChoices):
    LIQUID = "liquid", _("Liquid")
    FOAM = "foam", _("Foam")


# What one treated area may hold; the form, the table and the services share these bounds.
VOLUME_ML_MIN, VOLUME_ML_MAX = Decimal("0.01"), Decimal(20)
INJECTIONS_MIN, INJECTIONS_MAX = 1, 200


class TreatedArea(models.Model):
    chart = models.ForeignKey(SessionChart, on_delete=models.CASCADE, related_name="areas")
    region = models.CharField(_("area"), max_length=30, choices=regions.CHOICES)
    vessel_type = models.CharField(_("vessels"), max_length=10, choices=VesselType.choices)
    agent = models.CharField(_("agent"), max_length=20, choices=Agent.choices)
    concentration = models.DecimalField(_("concentration (%)"), max_digits=4, decimal_places=2)
    form = models.CharField(_("liquid or foam"), max_length=10, choices=AgentForm.choices)
    volume_ml = models.DecimalField(
        _("volume (mL)"),
        max_digits=4,
        decimal_places=2,
        validators=[MinValueValidator(VOLUME_ML_MIN), MaxValueValidator(VOLUME_ML_MAX)],
    )
    injections = models.PositiveSmallIntegerField(
        _("injections"),
        validators=[MinValueValidator(INJECTIONS_MIN), MaxValueValidator(INJECTIONS_MAX)],
    )

    class Meta:
        ordering = ["chart", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(volume_ml__gt=0) & models.Q(injections__gte=1),
                name="treated_area_positive_amounts",
            ),
        ]

    def __str__(self) -> str:
        return regions.label(self.region)

    @property
    def region_label(self) -> str:
        return regions.label(self.region)

    def value_text(self, name: str) -> str:
        """One value as the chart page shows it: labels for choices, decimals as on the chart."""
        value = getattr(self, name)
        if name in ("vessel_type", "agent", "form"):
            return str(getattr(self, f"get_{name}_display")())
        if name == "concentration":
            value = Decimal(value)
            return f"{value:.0f}" if value == value.to_integral_value() else f"{value:.2f}"
        if name == "volume_ml":
            return f"{Decimal(value):.2f}"
        return str(value)


class ChartAmendment(models.Model):
    """A change to a signed chart: the text before and after, why, who and when. `field` names
    a text of the chart ("notes") or a value of one treated area ("area:R-foot:volume_ml")."""

    chart = models.ForeignKey(SessionChart, on_delete=models.PROTECT, related_name="amendments")
    # 60: "area:" + the longest region key + ":concentration" is 36 characters.
    field = models.CharField(max_length=60)
    old_text = models.TextField(blank=True)
    new_text = models.TextField(blank=True)
    reason = models.TextField()
    by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(reason=""), name="amendment_has_reason")
        ]

    def __str__(self) -> str:
        return f"amendment of {self.field} on chart {self.chart_id}"

    @staticmethod
    def area_field(region: str, name: str) -> str:
        return f"area:{region}:{name}"

    @property
    def is_area_change(self) -> bool:
        return self.field.startswith("area:")

    @property
    def field_label(self) -> str:
        """What changed, in words: "Notes", or "Right anterior thigh, volume (mL)"."""
        try:
            if self.is_area_change:
                _kind, region, name = self.field.split(":", 2)
                return _("%(area)s, %(value)s") % {
                    "area": regions.label(region),
                    "value": TreatedArea._meta.get_field(name).verbose_name,
                }
            return capfirst(SessionChart._meta.get_field(self.field).verbose_name)
        except (ValueError, FieldDoesNotExist):
            return self.field  # a name from an older version of the app: show it as stored


# A short remark ("Agree; review the foot at session 3"); longer thoughts are amendments.
COSIGN_NOTE_MAX = 200


class ChartCosignature(models.Model):
    """Another doctor has read a signed chart and agrees with it. The signature stays the
    treating doctor's: a co-signature adds a name, it never replaces one."""

    chart = models.ForeignKey(SessionChart, on_delete=models.PROTECT, related_name="cosignatures")
    doctor = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    note = models.CharField(_("note"), max_length=COSIGN_NOTE_MAX, blank=True)

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            # Its index also serves the chart page's list of co-signatures (chart = ...).
            models.UniqueConstraint(fields=["chart", "doctor"], name="one_cosignature_per_doctor")
        ]

    def __str__(self) -> str:
        return f"co-signature of chart {self.chart_id}"


CEAP_LABELS = {
    "ceap_right": _("CEAP class, right leg"),
    "ceap_left": _("CEAP class, left leg"),
}


class ClearanceKind(models.TextChoices):
    OVERRIDE = "override", _("Override")
    ACKNOWLEDGMENT = "acknowledgment", _("Acknowledgment")


# The longest reason a doctor writes for an override.
CLEARANCE_REASON_MAX = 1000


class Clearance(models.Model):
    """A doctor let treatment go ahead despite something the eligibility gate found
    (treatments.eligibility): an override of a blocker, with a reason, or an acknowledgment of
    a relative contraindication. For the whole plan (`session` empty) or for one of its visits
    (`session`: the session or touch-up number). A screening answer changed after it is not
    covered by it: the gate asks again."""

    plan = models.ForeignKey(TreatmentPlan, on_delete=models.PROTECT, related_name="clearances")
    session = models.PositiveSmallIntegerField(_("session"), null=True, blank=True)
    # What it clears: a screening question's key, or "ceap_left" / "ceap_right".
    key = models.CharField(max_length=40)
    kind = models.CharField(max_length=20, choices=ClearanceKind.choices)
    reason = models.TextField(_("why"), max_length=CLEARANCE_REASON_MAX, blank=True)
    by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["plan", "at"], name="clearance_plan_idx")]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(kind=ClearanceKind.OVERRIDE) | ~models.Q(reason=""),
                name="override_has_reason",
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=ClearanceKind.values), name="clearance_kind_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} of {self.key} on plan {self.plan_id}"

    @property
    def what(self) -> str:
        """What it clears, in words."""
        if self.key in CEAP_LABELS:
            return str(CEAP_LABELS[self.key])
        question = SCREENING_QUESTIONS.get(self.key)
        return str(question.label) if question else self.key


class Severity(models.TextChoices):
    MILD = "mild", _("Mild")
    MODERATE = "moderate", _("Moderate")
    SEVERE = "severe", _("Severe")


class AdverseEventQuerySet(models.QuerySet):
    def alerting(self, alerting_types: list[str]):
        """Events of a type that alerts now (`ClinicSettings.alerting_event_types`), or that
        alerted when recorded: taking a type off the list does not hide an alert already sent."""
        return self.filter(models.Q(type__in=alerting_types) | models.Q(alerted_at__isnull=False))

    def unresolved(self):
        return self.filter(resolved_on__isnull=True)

    def to_follow_up(self):
        """Still on the doctor's home: not resolved, or not yet seen."""
        return self.filter(
            models.Q(resolved_on__isnull=True) | models.Q(acknowledged_at__isnull=True)
        )


class AdverseEvent(models.Model):
    plan = models.ForeignKey(TreatmentPlan, on_delete=models.PROTECT, related_name="adverse_events")
    chart = models.ForeignKey(
        SessionChart, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    type = models.CharField(_("what happened"), max_length=20, choices=AdverseEventType.choices)
    onset_on = models.DateField(_("began on"))
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices)
    region = models.CharField(_("area"), max_length=30, choices=regions.CHOICES, blank=True)
    management = models.TextField(_("management"), blank=True)
    follow_up_needed = models.BooleanField(_("follow-up needed"), default=False)
    resolved_on = models.DateField(_("resolved on"), null=True, blank=True)
    # Closed = resolved_on set; who closed it and when, whichever page set the date.
    outcome = models.TextField(_("outcome"), blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reported_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # When the alert to the treating doctor was put in the outbox (treatments.alerts).
    alerted_at = models.DateTimeField(null=True, blank=True)
    # The treating doctor has seen it: until then it stays on their home page, resolved or not.
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    form_token = models.UUIDField(null=True, unique=True, editable=False)

    objects = AdverseEventQuerySet.as_manager()

    class Meta:
        ordering = ["-onset_on", "-id"]
        indexes = [
            # The doctor's home page: unresolved events, by plan.
            models.Index(
                fields=["plan"],
                condition=models.Q(resolved_on__isnull=True),
                name="adverse_event_open_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.get_type_display()

    @property
    def is_closed(self) -> bool:
        return self.resolved_on is not None


class AdverseEventFollowUp(models.Model):
    """A dated entry on an open adverse event: what was done and what came of it."""

    event = models.ForeignKey(AdverseEvent, on_delete=models.PROTECT, related_name="follow_ups")
    on = models.DateField(_("date"))
    action = models.TextField(_("what was done"))
    outcome = models.TextField(_("outcome"))
    by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    form_token = models.UUIDField(null=True, unique=True, editable=False)

    class Meta:
        ordering = ["on", "id"]
        indexes = [
            # The event page lists its follow-ups in date order.
            models.Index(fields=["event", "on"], name="event_follow_up_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(action="") & ~models.Q(outcome=""),
                name="follow_up_has_text",
            )
        ]

    def __str__(self) -> str:
        return f"follow-up of adverse event {self.event_id} on {self.on}"


class Anchor(models.TextChoices):
    SESSION = "session", _("after the session")
    REST_END = "rest_end", _("after the days without heavy exercise end")
    HOSE_END = "hose_end", _("after the support-hose period ends")
    INTERVAL_END = "interval_end", _("after the interval between sessions")


class AftercareStep(models.Model):
    """One message of the after-session programme. Its texts are templates whose numbers are
    placeholders (`treatments.aftercare`); scheduling sends it on the day it speaks of."""

    key = models.SlugField(unique=True)
    order = models.PositiveSmallIntegerField(default=0)
    title = models.CharField(_("title"), max_length=100)
    anchor = models.CharField(_("counted from"), max_length=20, choices=Anchor.choices)
    offset_days = models.SmallIntegerField(_("days after that"), default=0)
    email_subject = models.CharField(_("email subject"), max_length=150)
    email_body = models.TextField(_("email text"))
    sms_text = models.CharField(_("text message"), max_length=320)
    active = models.BooleanField(_("send this message"), default=True)

    class Meta:
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.title

    def day(self, numbers) -> int:
        """The day after the session day (0: the session day itself) this message speaks of,
        with one patient's numbers (`aftercare.AftercareNumbers`). The hose period of 14 days
        ends on day 14 (the same weekday two weeks on: the first day without hose); the days
        without heavy exercise, 3 of them after the session day, end on day 4."""
        base = {
            Anchor.SESSION: 0,
            Anchor.REST_END: numbers.rest_days + 1,
            Anchor.HOSE_END: numbers.hose_days,
            Anchor.INTERVAL_END: numbers.interval_weeks * 7,
        }[self.anchor]
        return max(0, base + self.offset_days)


class CheckInAnswer(models.TextChoices):
    """How the patient's legs are, in their words (issue 16, point 1)."""

    FINE = "fine", _("My legs are fine")
    BRUISING = "bruising", _("Some redness or bruising")
    HARD_LEG = "hard_leg", _("A hard, painful or swollen leg")
    CHEST = "chest", _("Chest pain or short of breath")
    SORE = "sore", _("A sore or blister on the skin")
    VISION = "vision", _("Changes in my eyesight")


# The answers that are warning signs: they alert the treating doctor, and the patient is told
# at once what to do (CLINICAL.md: calf pain or swelling, chest pain or breathlessness, visual
# symptoms, an ulcer).
ALARMING_ANSWERS = frozenset(
    {CheckInAnswer.HARD_LEG, CheckInAnswer.CHEST, CheckInAnswer.SORE, CheckInAnswer.VISION}
)


class SafetyCheckIn(models.Model):
    """The question "how are your legs?", asked by a link sent days after a session. The
    link needs no login: its token is derived from `nonce` when the message is written and
    only its hash is kept (treatments.check_ins)."""

    plan = models.ForeignKey(TreatmentPlan, on_delete=models.PROTECT, related_name="check_ins")
    # The visit it follows: scheduling's appointment. An id, not a key: treatments sits below
    # scheduling and knows no appointments.
    appointment_id = models.PositiveBigIntegerField()
    session_on = models.DateField()
    days_after = models.PositiveSmallIntegerField()
    nonce = models.UUIDField(unique=True, editable=False)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    due_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)
    # No answer came: the front desk called the patient.
    called_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    called_at = models.DateTimeField(null=True, blank=True)
    call_note = models.CharField(_("what came of the call"), max_length=1000, blank=True)

    class Meta:
        ordering = ["due_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["appointment_id", "days_after"], name="one_check_in_per_visit_and_day"
            )
        ]
        indexes = [
            # The front desk's list of check-ins no one answered and no one called about.
            models.Index(
                fields=["due_at"],
                name="check_in_not_called_idx",
                condition=models.Q(called_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"check-in {self.pk} of plan {self.plan_id}"


class CheckInReply(models.Model):
    """One answer to a check-in. A patient may answer again: every answer is kept."""

    check_in = models.ForeignKey(SafetyCheckIn, on_delete=models.PROTECT, related_name="replies")
    answers = models.JSONField(default=list)
    note = models.CharField(_("anything else"), max_length=1000, blank=True)
    # Any answer is a warning sign: the doctor is alerted and it stays on their home page.
    warning = models.BooleanField(default=False)
    answered_at = models.DateTimeField(default=timezone.now)
    ip = models.GenericIPAddressField(null=True, blank=True)
    # One page, one reply: a double tap on "Send" keeps one.
    form_token = models.UUIDField(unique=True, null=True, blank=True, editable=False)
    handled_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    handled_at = models.DateTimeField(null=True, blank=True)
    handled_note = models.CharField(_("what was done"), max_length=1000, blank=True)

    class Meta:
        ordering = ["-answered_at", "-pk"]
        indexes = [
            models.Index(
                fields=["answered_at"],
                name="check_in_open_warning_idx",
                condition=models.Q(warning=True, handled_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"reply {self.pk} to check-in {self.check_in_id}"

    def answer_labels(self) -> list[str]:
        return [str(CheckInAnswer(a).label) for a in self.answers if a in CheckInAnswer.values]

    @property
    def warning_signs(self) -> list[str]:
        return [a for a in self.answers if a in ALARMING_ANSWERS]
