from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PatientsConfig(AppConfig):
    """Who: the patient record, contact details, consents and screening answers."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "patients"
    verbose_name = _("Patients")

    def ready(self) -> None:
        from . import merging, record_sections
        from .models import PortalInvitation, ScreeningAnswer
        from .services import move_own_rows

        merging.register(move_own_rows, models=(ScreeningAnswer, PortalInvitation))
        record_sections.register()
