from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    """The patient's own pages, built on the other apps' services and selectors; no models."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "portal"
    verbose_name = _("Patient portal")

    def ready(self) -> None:
        from django.urls import reverse

        from patients import portal_link
        from scheduling import check_in_messages, online_booking_link, waitlist_messages

        portal_link.register_welcome(lambda token: reverse("portal:open_account", args=[token]))
        portal_link.register_preferences(lambda: reverse("portal:preferences"))
        portal_link.register_screening(lambda: reverse("portal:screening"))
        online_booking_link.register_confirm_path(
            lambda token: reverse("portal:book_confirm", args=[token])
        )
        check_in_messages.register_page(lambda token: reverse("portal:check_in", args=[token]))
        waitlist_messages.register_page(
            lambda token: reverse("portal:waitlist_offer", args=[token])
        )
