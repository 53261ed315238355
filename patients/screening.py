"""The screening checklist asked before sclerotherapy (../shared/domain/CLINICAL.md).

Questions are code, not data: the consultation and the plan rules refer to them by key.
"""

from dataclasses import dataclass

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class Answer(models.TextChoices):
    YES = "yes", _("Yes")
    NO = "no", _("No")
    UNKNOWN = "unknown", _("Unknown")


class Kind(models.TextChoices):
    # A "yes" blocks a treatment plan.
    ABSOLUTE = "absolute", _("Absolute contraindication")
    # A "yes" must be acknowledged by the doctor at consultation.
    RELATIVE = "relative", _("Relative contraindication")
    # Recorded for the doctor; no rule attached.
    HISTORY = "history", _("Vein treatment history")


@dataclass(frozen=True)
class Question:
    key: str
    label: str | Promise
    kind: Kind


QUESTIONS: tuple[Question, ...] = (
    Question("sclerosant_allergy", _("Allergy to a sclerosing agent"), Kind.ABSOLUTE),
    Question("acute_dvt_pe", _("Acute deep vein thrombosis or pulmonary embolism"), Kind.ABSOLUTE),
    Question("infection", _("Infection in the area, or a severe general infection"), Kind.ABSOLUTE),
    Question("immobility", _("Long-term immobility (bedridden)"), Kind.ABSOLUTE),
    Question("limb_ischaemia", _("Critical limb ischaemia"), Kind.ABSOLUTE),
    Question("severe_reaction", _("Earlier severe reaction to sclerotherapy"), Kind.ABSOLUTE),
    Question(
        "rl_shunt",
        _("Known symptomatic right-to-left shunt (e.g. PFO) — blocks foam"),
        Kind.ABSOLUTE,
    ),
    Question("pregnancy", _("Pregnant"), Kind.RELATIVE),
    Question("breastfeeding", _("Breastfeeding"), Kind.RELATIVE),
    Question(
        "previous_dvt_pe", _("Earlier deep vein thrombosis or pulmonary embolism"), Kind.RELATIVE
    ),
    Question("thrombophilia", _("Thrombophilia (clotting disorder)"), Kind.RELATIVE),
    Question("recent_surgery", _("Surgery or hospital stay in the last 3 months"), Kind.RELATIVE),
    Question("reduced_mobility", _("Reduced mobility"), Kind.RELATIVE),
    Question("arterial_disease", _("Peripheral arterial disease"), Kind.RELATIVE),
    Question("anticoagulants", _("Takes anticoagulants or antiplatelets"), Kind.RELATIVE),
    Question("estrogen", _("Takes estrogen, the contraceptive pill or HRT"), Kind.RELATIVE),
    Question("asthma_allergies", _("Asthma or allergies"), Kind.RELATIVE),
    Question("migraine", _("Migraine (matters when foam is used)"), Kind.RELATIVE),
    Question(
        "travel_planned", _("Long-distance travel planned soon after treatment"), Kind.RELATIVE
    ),
    Question("untreated_varicose", _("Untreated varicose veins or reflux"), Kind.RELATIVE),
    Question("previous_treatment_left", _("Earlier vein treatment, left leg"), Kind.HISTORY),
    Question("previous_treatment_right", _("Earlier vein treatment, right leg"), Kind.HISTORY),
)
BY_KEY = {q.key: q for q in QUESTIONS}

# The same questions as a patient reads them in the portal, in plain words.
PATIENT_WORDING: dict[str, str | Promise] = {
    "sclerosant_allergy": _("Have you ever had an allergic reaction to a vein injection?"),
    "acute_dvt_pe": _("Do you have a blood clot in a leg or in the lungs right now?"),
    "infection": _("Do you have an infection in your legs, or are you ill with a fever?"),
    "immobility": _("Are you confined to bed for long periods?"),
    "limb_ischaemia": _("Has a doctor told you the blood flow to your legs is badly blocked?"),
    "severe_reaction": _("Did you have a serious reaction to vein treatment before?"),
    "rl_shunt": _("Has a doctor told you that you have a hole in the heart (such as a PFO)?"),
    "pregnancy": _("Are you pregnant, or could you be?"),
    "breastfeeding": _("Are you breastfeeding?"),
    "previous_dvt_pe": _("Have you ever had a blood clot in a leg or in the lungs?"),
    "thrombophilia": _("Has a doctor told you that your blood clots too easily?"),
    "recent_surgery": _("Have you had an operation or a hospital stay in the last 3 months?"),
    "reduced_mobility": _("Do you find it hard to walk or get around?"),
    "arterial_disease": _("Do you have poor circulation in your legs (arterial disease)?"),
    "anticoagulants": _("Do you take blood thinners, or aspirin every day?"),
    "estrogen": _(
        "Do you take estrogen, the contraceptive pill or hormone replacement therapy (HRT)?"
    ),
    "asthma_allergies": _("Do you have asthma or allergies?"),
    "migraine": _("Do you get migraines?"),
    "travel_planned": _("Do you plan a long journey (over 4 hours) soon after treatment?"),
    "untreated_varicose": _("Do you have large, bulging varicose veins that were never treated?"),
    "previous_treatment_left": _("Have you had vein treatment on your left leg before?"),
    "previous_treatment_right": _("Have you had vein treatment on your right leg before?"),
}
ESTROGEN = "estrogen"
UNTREATED_VARICOSE = "untreated_varicose"
FOAM_ONLY = "rl_shunt"
