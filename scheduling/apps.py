from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SchedulingConfig(AppConfig):
    """When: working hours, appointments, series booking, reminders, the patient's schedule."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "scheduling"
    verbose_name = _("Scheduling")

    def ready(self) -> None:
        from patients import merging, notices, upcoming

        from . import merge
        from .models import Reminder
        from .reminder_views import messages_notice
        from .selectors import next_appointments

        notices.register(messages_notice)
        upcoming.register(next_appointments)
        merging.register(merge.move_patient_rows, models=merge.MODELS)
        merging.register(merge.move_reminders, models=(Reminder,))
