from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TreatmentsConfig(AppConfig):
    """What: consultations, treatment plans, session charts, adverse events, aftercare."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "treatments"
    verbose_name = _("Treatments")

    def ready(self) -> None:
        from goodskin import links
        from patients import merging

        from . import check_ins, record_sections
        from .alerts import register
        from .models import Consultation, TreatmentPlan
        from .services import move_patient_rows
        from .views import record_links

        register()
        check_ins.register()
        links.register(links.PATIENT_RECORD, record_links)
        merging.register(move_patient_rows, models=(Consultation, TreatmentPlan))
        record_sections.register()
