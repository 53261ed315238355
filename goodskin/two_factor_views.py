"""The pages of two-step login: set it up (QR code, first code, recovery codes), the code at
login, and the person's own page to make new recovery codes or turn it off."""

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from . import two_factor
from .two_factor import TwoFactorError

# The codes just made, kept in the session until their page has shown them once.
SHOW_CODES = "two_factor_show_codes"


def two_factor_exempt(view):
    """A page a session may open before its second step (TwoFactorMiddleware lets it by)."""
    view.two_factor_exempt = True
    return view


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code"),
        max_length=40,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false"}
        ),
    )

    def clean_code(self):
        code = self.cleaned_data["code"]
        if "\x00" in code:
            raise forms.ValidationError(_("Type the code as it is shown."))
        return code


def _why(error: TwoFactorError) -> str:
    return {
        "wait": _("Too many wrong codes. Wait a minute, then try the newest code."),
        "stale": _("This page is out of date. Open it again."),
        "required": _("Your role needs two-step login: it can't be turned off."),
    }.get(str(error), _("That code is not right. Try the newest code from your app."))


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if "\x00" in target or not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return reverse("home")
    return target


def _with_next(name: str, request: HttpRequest) -> str:
    from urllib.parse import urlencode

    target = _next(request)
    url = reverse(name)
    return url if target == reverse("home") else f"{url}?{urlencode({'next': target})}"


@two_factor_exempt
@never_cache
@sensitive_post_parameters("code")
@require_http_methods(["GET", "HEAD", "POST"])
def setup(request: HttpRequest) -> HttpResponse:
    """Set up the app: scan the QR code (or type the key), then give its first code."""
    user = request.user
    if two_factor.enrolled(user):
        # A second app only after this session passed its second step with the first one:
        # a password alone must not be enough to add a device.
        if not user.is_verified():
            return redirect(_with_next("two_factor", request))
        messages.info(request, _("Two-step login is already on."))
        return redirect("two_factor_manage")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = two_factor.confirm_enrolment(request, code=form.cleaned_data["code"])
        except TwoFactorError as error:
            form.add_error("code", _why(error))
        else:
            request.session[SHOW_CODES] = codes
            return redirect(_with_next("two_factor_codes", request))
    device = two_factor.pending_device(user)
    context = {
        "form": form,
        "qr": two_factor.qr_svg(device),
        "secret": two_factor.spaced_secret(device),
        "required": two_factor.required(user),
        "next": _next(request),
    }
    return render(request, "registration/two_factor_setup.html", context)


@two_factor_exempt
@never_cache
@sensitive_post_parameters("code")
@require_http_methods(["GET", "HEAD", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    """The second step at login: the code from the app, or a recovery code."""
    user = request.user
    if user.is_verified():
        return redirect(_next(request))
    if not two_factor.enrolled(user):
        return redirect(_with_next("two_factor_setup", request))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            done = two_factor.verify(request, code=form.cleaned_data["code"])
        except TwoFactorError as error:
            form.add_error("code", _why(error))
        else:
            if done.device_kind == "recovery":
                messages.warning(
                    request,
                    _(
                        "You used a recovery code; %(n)d are left. Each works once: make new "
                        "ones on your two-step login page when they run low."
                    )
                    % {"n": done.recovery_left},
                )
            return redirect(_next(request))
    context = {"form": form, "next": _next(request)}
    return render(request, "registration/two_factor_verify.html", context)


@two_factor_exempt
@never_cache
@require_http_methods(["GET", "HEAD"])
def codes(request: HttpRequest) -> HttpResponse:
    """The recovery codes, shown once, right after they were made."""
    shown = request.session.pop(SHOW_CODES, None)
    if not shown:
        return redirect("two_factor_manage")
    context = {"codes": shown, "next": _next(request)}
    return render(request, "registration/two_factor_codes.html", context)


@never_cache
@sensitive_post_parameters("code")
@require_http_methods(["GET", "HEAD", "POST"])
def manage(request: HttpRequest) -> HttpResponse:
    """The person's own two-step login: on or off, recovery codes left, new codes, off."""
    user = request.user
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            two_factor.turn_off(request, code=form.cleaned_data["code"])
        except TwoFactorError as error:
            form.add_error("code", _why(error))
        else:
            messages.success(request, _("Two-step login is off."))
            return redirect("two_factor_manage")
    from django_otp.plugins.otp_static.models import StaticToken

    context = {
        "form": form,
        "enrolled": two_factor.enrolled(user),
        "required": two_factor.required(user),
        "codes_left": StaticToken.objects.filter(device__user=user).count(),
    }
    return render(request, "registration/two_factor_manage.html", context)


@never_cache
@require_POST
def new_codes(request: HttpRequest) -> HttpResponse:
    if not two_factor.enrolled(request.user):
        return redirect("two_factor_manage")
    request.session[SHOW_CODES] = two_factor.renew_recovery_codes(request)
    return redirect("two_factor_codes")
