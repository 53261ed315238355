from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GoodskinConfig(AppConfig):
    """Settings, roles, login, the base pages and the health check."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "goodskin"
    verbose_name = _("Goodskin Clinic")

    def ready(self) -> None:
        # goodskin.language's login receiver listens from the start, not from the first
        # request (which loads its middleware).
        from . import language, password_reset  # noqa: F401

        password_reset.register()
