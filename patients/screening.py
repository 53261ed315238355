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
ESTROGEN = "estrogen"
UNTREATED_VARICOSE = "untreated_varicose"
FOAM_ONLY = "rl_shunt"
