from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from scheduling import home as scheduling_home

from . import language, two_factor_views, views
from .auth import LoginView, PasswordResetConfirmView, PasswordResetView

admin.site.site_header = _("Goodskin Clinic administration")
admin.site.site_title = _("Goodskin Clinic")

urlpatterns = [
    path("", views.home, name="home"),
    # Each home lives with what it shows (scheduling, treatments); the project only routes.
    path("desk/", scheduling_home.frontdesk_home, name="frontdesk_home"),
    path("doctor/", scheduling_home.doctor_home, name="doctor_home"),
    path("healthz", views.healthz, name="healthz"),
    path("", include("patients.urls")),
    path("", include("messaging.urls")),
    path("", include("treatments.urls")),
    path("", include("scheduling.urls")),
    path("", include("portal.urls")),
    path("", include("reports.urls")),
    # Login, logout, password change and reset, with templates in templates/registration/.
    path("accounts/login/", LoginView.as_view(), name="login"),
    path(
        "accounts/logout/",
        two_factor_views.two_factor_exempt(views.LogoutView.as_view()),
        name="logout",
    ),
    # The language chooser on every page (no prefix in the paths: see goodskin.language).
    path("i18n/setlang/", language.set_language, name="set_language"),
    path("accounts/keep-alive/", views.keep_alive, name="keep_alive"),
    path("accounts/two-factor/", two_factor_views.verify, name="two_factor"),
    path("accounts/two-factor/setup/", two_factor_views.setup, name="two_factor_setup"),
    path("accounts/two-factor/codes/", two_factor_views.codes, name="two_factor_codes"),
    path("accounts/two-factor/manage/", two_factor_views.manage, name="two_factor_manage"),
    path("accounts/two-factor/new-codes/", two_factor_views.new_codes, name="two_factor_new_codes"),
    path("accounts/password_reset/", PasswordResetView.as_view(), name="password_reset"),
    path(
        "accounts/reset/<uidb64>/<token>/",
        PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
]
