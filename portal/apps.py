from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    """The patient's own pages, built on the other apps' services and selectors; no models."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "portal"
    verbose_name = _("Patient portal")
