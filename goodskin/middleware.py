"""Show and read times in the clinic's zone (the database keeps UTC), end sessions that went
idle or lasted too long, and read a session's second-step device."""

import time
import zoneinfo
from dataclasses import dataclass
from urllib.parse import urlencode

from django.apps import apps
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import SuspiciousOperation
from django.db import connection
from django.dispatch import receiver
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp import middleware as otp_middleware
from django_otp.models import Device

from .roles import Role, role_of
from .row_versions import columns, prepared_objects, table


class ClinicTimezoneMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.zone = zoneinfo.ZoneInfo(settings.CLINIC_TIME_ZONE)

    def __call__(self, request):
        timezone.activate(self.zone)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


# What the session keeps of its own age, as Unix seconds.
STARTED, SEEN = "limits_started", "limits_seen"
# A request this soon after the last one recorded doesn't write the session again.
SEEN_GRANULARITY = 10


@dataclass(frozen=True)
class Limits:
    idle: int  # seconds without a request
    total: int  # seconds since login


def limits_for(user) -> Limits:
    """How long a session of this user may last: patients log in on shared and family devices
    (PATIENT_IDLE_MINUTES); staff leave screens on at the desk (STAFF_IDLE_MINUTES). Every
    session ends SESSION_MAX_HOURS after login, whatever happens in between."""
    minutes = (
        settings.PATIENT_IDLE_MINUTES
        if role_of(user) == Role.PATIENT
        else settings.STAFF_IDLE_MINUTES
    )
    return Limits(idle=minutes * 60, total=settings.SESSION_MAX_HOURS * 3600)


def left(request) -> tuple[int, int] | None:
    """(seconds until the idle limit, seconds until the session's end) of this request's
    session, for the page's warning; None when nobody is logged in."""
    limits = getattr(request, "session_limits", None)
    if limits is None:
        return None
    started = request.session.get(STARTED, time.time())
    return limits.idle, max(0, int(limits.total - (time.time() - started)))


class SessionLimitsMiddleware:
    """End a session after its idle limit or its total limit (limits_for): log out and send
    the person to the login page, saying why. Every request of a logged-in user passes here,
    so a cookie kept by a closed browser is no use after the idle limit either."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return self.get_response(request)
        limits = limits_for(user)
        session, now = request.session, time.time()
        started = session.get(STARTED)
        if started is None:  # a session from before this middleware: its age starts now
            session[STARTED] = started = now
        seen = session.get(SEEN, now)
        if now - started > limits.total:
            return self._end(
                request,
                _("You were logged out: a session lasts at most %(h)d hours.")
                % {"h": settings.SESSION_MAX_HOURS},
            )
        if now - seen > limits.idle:
            return self._end(
                request,
                _("You were logged out after %(m)d minutes without activity.")
                % {"m": limits.idle // 60},
            )
        if SEEN not in session or now - seen >= SEEN_GRANULARITY:
            session[SEEN] = now
        request.session_limits = limits
        return self.get_response(request)

    def _end(self, request, why) -> HttpResponse:
        path = request.get_full_path()
        logout(request)
        messages.info(request, why)
        if request.headers.get("HX-Request") or request.path == reverse("keep_alive"):
            # A background request: the page's own script goes to the login page.
            return HttpResponse(status=401)
        return redirect_to_login(path if request.method == "GET" else "/")


@receiver(user_logged_in)
def start_the_clock(sender, request, user, **kwargs):
    """A login starts the session's total limit (the session key changed with it)."""
    if request is not None and hasattr(request, "session"):
        now = time.time()
        request.session[STARTED] = now
        request.session[SEEN] = now
        # The stored session lasts as long as the total limit: this middleware (not the
        # session store) ends it when idle, and so can say why.
        request.session.set_expiry(limits_for(user).total)


class RefuseNulMiddleware:
    """A NUL character in the path or the query string answers 400: PostgreSQL can't store or
    compare it, so it would otherwise reach a query as a 500 (a calendar-feed token, a search).
    Posted forms need no check here: every form text field refuses a NUL with a message."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path or any(
            "\x00" in key or any("\x00" in value for value in request.GET.getlist(key))
            for key in request.GET
        ):
            raise SuspiciousOperation("A NUL character in the request")
        return self.get_response(request)


class OTPMiddleware(otp_middleware.OTPMiddleware):
    """django-otp's (request.user.is_verified()), reading the session's device through a
    statement prepared once per connection (row_versions.prepared_objects) on PostgreSQL:
    every page of a signed-in member of staff reads it."""

    def _device_from_persistent_id(self, persistent_id: str):
        if connection.vendor != "postgresql":
            return super()._device_from_persistent_id(persistent_id)
        label, _slash, pk = self._normalize_persistent_id(persistent_id).rpartition("/")
        try:
            model = apps.get_model(label)
            pk = int(pk)
        except (ValueError, LookupError):  # as django-otp: not a device, none
            return None
        if not issubclass(model, Device):
            return None
        sql = f"SELECT {columns(model)} FROM {table(model)} t WHERE t.id = %s"
        found = prepared_objects(model, sql, [pk])
        return found[0] if found else None


class TwoFactorMiddleware:
    """A session that owes its second step (goodskin.two_factor) reaches only the pages that
    take that step, logout, and the public pages (those marked @login_not_required): every
    other request goes to the code page, or to setting it up when the account has no app yet.
    After SessionLimitsMiddleware, so an idle session ends rather than asks for a code."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        from . import two_factor

        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if getattr(view_func, "two_factor_exempt", False) or not getattr(
            view_func, "login_required", True
        ):
            return None
        needed = request.session.get(two_factor.NEEDED)
        if needed is None:  # a session from before two-step login: note it now
            two_factor.note_login(request, user)
            needed = request.session[two_factor.NEEDED]
        if not needed or user.is_verified():
            return None
        if two_factor.enrolled(user):
            name = "two_factor"
        elif two_factor.required(user):
            name = "two_factor_setup"
        else:  # turned on, then reset by the clinic: nothing left to ask
            request.session[two_factor.NEEDED] = False
            return None
        target = reverse(name)
        if request.method == "GET":
            target = f"{target}?{urlencode({'next': request.get_full_path()})}"
        if request.headers.get("HX-Request"):
            return HttpResponse(status=204, headers={"HX-Redirect": target})
        return HttpResponseRedirect(target)


@receiver(user_logged_in)
def note_second_step(sender, request, user, **kwargs):
    """A login (a new session key) notes whether its session owes a second step."""
    if request is not None and hasattr(request, "session"):
        from . import two_factor

        two_factor.note_login(request, user)
