"""The language of the pages: the chooser on every page, and a patient's own language.

Anyone chooses with the form on every page (Django's `set_language`, which keeps the choice in
a cookie); LocaleMiddleware reads that cookie, else the browser's Accept-Language, else
English. A logged-in patient's pages follow the language on their record instead: their login
puts it in the session, and choosing another one on a page keeps it on the record too, so their
messages follow.
"""

from contextlib import suppress

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from .actors import Actor
from .roles import Role, role_of
from .two_factor_views import two_factor_exempt

# The logged-in patient's language, set at login and by the chooser.
SESSION_KEY = "patient_language"


def supported(code: str | None) -> bool:
    return code in dict(settings.LANGUAGES)


class PatientLanguageMiddleware:
    """After LocaleMiddleware and the session: a patient's session speaks their language."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        language = session.get(SESSION_KEY) if session is not None else None
        if supported(language):
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return self.get_response(request)


# No CSRF token: a page with the chooser stays the same for every visitor (the public booking
# pages show nothing that tells one visitor from another), and the form still works on the
# page that says a CSRF check failed. A cross-site post can change only the language of the
# browser that sends it, never a patient's record: the session cookie is SameSite=Lax, so such
# a post arrives logged out.
@csrf_exempt
@login_not_required
@two_factor_exempt
@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """The chooser's form. A language the site doesn't offer changes nothing (and no cookie
    names it); a logged-in patient's choice is kept on their record and in their session."""
    language = request.POST.get("language")
    if not supported(language):
        return _back(request)
    response = django_set_language(request)
    if role_of(request.user) == Role.PATIENT:
        _keep_on_record(request, language)
    return response


def _back(request: HttpRequest) -> HttpResponse:
    target = request.POST.get("next") or request.headers.get("referer") or "/"
    safe = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return redirect(target if safe else "/")


def _keep_on_record(request: HttpRequest, language: str) -> None:
    from patients import services
    from patients.models import Patient

    request.session[SESSION_KEY] = language
    patient = Patient.objects.active().filter(portal_user=request.user).first()
    if patient is None or patient.language == language:
        return
    # Changed meanwhile (StaleRecord): the pages' language changes all the same.
    with suppress(services.StaleRecord):
        services.update_patient(
            patient_id=patient.pk,
            version=patient.version,
            data={"language": language},
            by=Actor.from_request(request),
        )


def note_patient_language(request: HttpRequest, language: str) -> None:
    """The patient changed their language on their preferences page: the pages follow."""
    if supported(language):
        request.session[SESSION_KEY] = language
        translation.activate(language)
        request.LANGUAGE_CODE = language


@receiver(user_logged_in)
def activate_patient_language(sender, request, user, **kwargs):
    """A patient's login switches the pages to the language on their record."""
    if request is None or not hasattr(request, "session") or role_of(user) != Role.PATIENT:
        return
    from patients.models import Patient

    language = (
        Patient.objects.active().filter(portal_user=user).values_list("language", flat=True).first()
    )
    if supported(language):
        note_patient_language(request, language)
