from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SchedulingConfig(AppConfig):
    """When: working hours, appointments, series booking, reminders."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "scheduling"
    verbose_name = _("Scheduling")

    def ready(self) -> None:
        from goodskin import links
        from patients import audit_words, merging, notices, record_panels, upcoming
        from treatments import plan_panels

        from . import (
            check_in_messages,
            merge,
            online_booking_link,
            record_panel,
            record_sections,
            screening_request,
            waitlist_messages,
        )
        from .aftercare_sheet import record_notice
        from .change_notice_kinds import register_all as register_change_notices
        from .printout_views import printouts_panel
        from .reminder_kinds import register_all
        from .selectors import next_appointments
        from .views import chart_links, plan_links

        register_all()
        audit_words.register(
            subjects={
                "aftercare sheet": _("aftercare sheet"),
                "treatment summary": _("treatment summary"),
            },
            details={"appointments": _("appointments")},
        )
        screening_request.register()
        online_booking_link.register()
        check_in_messages.register()
        waitlist_messages.register()
        register_change_notices()
        # The notice reads the patient, their plans and their treatment visits.
        notices.register(record_notice, reads=record_panel.READS)
        record_panels.register(record_panel.appointments_panel, reads=record_panel.READS)
        plan_panels.register(record_panel.plan_sessions_panel)
        plan_panels.register(printouts_panel)
        links.register(links.PLAN_SUMMARY, plan_links)
        links.register(links.SESSION_CHART, chart_links)
        upcoming.register(next_appointments)
        merging.register(merge.move_patient_rows, models=merge.MODELS)
        record_sections.register()
