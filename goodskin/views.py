"""Landing pages per role and the health check."""

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from . import health
from .middleware import left
from .roles import Role, role_of
from .two_factor_views import two_factor_exempt

HOME_URL_NAMES = {
    Role.FRONT_DESK: "frontdesk_home",
    Role.DOCTOR: "doctor_home",
    Role.PATIENT: "portal:schedule",
    Role.ADMIN: "admin:index",
}


def home(request: HttpRequest) -> HttpResponse:
    """Where login lands: each role on its own home page."""
    role = role_of(request.user)
    if role is None:
        return render(request, "home/no_role.html", status=403)
    return redirect(HOME_URL_NAMES[role])


@two_factor_exempt  # the page asking for the code stays alive too
@never_cache
@require_POST
def keep_alive(request: HttpRequest) -> JsonResponse:
    """ "Stay logged in": the request itself restarts the idle count (SessionLimitsMiddleware);
    the answer says how long the page may wait now."""
    idle, total_left = left(request) or (0, 0)
    return JsonResponse({"idle": idle, "left": total_left})


@login_not_required
@never_cache
@require_safe  # GET, or HEAD as some load balancers send
def healthz(request: HttpRequest) -> JsonResponse:
    """As served, wsgi.py answers /healthz before Django (health.wsgi_answer); this view
    answers it on the development server and in tests, the same way."""
    status, answer = health.report()
    return JsonResponse(answer, status=status)


class LogoutView(auth_views.LogoutView):
    """Log out (POST only, as in Django) and say so on the login page."""

    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        messages.info(request, _("You are logged out."))
        return response
