from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MessagingConfig(AppConfig):
    """Tell: the outbox of messages to patients and staff, and their delivery."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "messaging"
    verbose_name = _("Messages")

    def ready(self) -> None:
        from goodskin import links
        from patients import audit_words, merging, notices

        from . import record_sections, selectors
        from .models import Message
        from .services import move_patient_messages

        audit_words.register(subjects={"message": _("message"), "messages": _("messages")})
        from .views import messages_notice, record_links

        notices.register(messages_notice, reads=(selectors.GIVEN_UP_READ,))
        links.register(links.PATIENT_RECORD, record_links)
        merging.register(move_patient_messages, models=(Message,))
        record_sections.register()
