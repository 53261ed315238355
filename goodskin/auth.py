"""Login by username or by email address: patients know their email, not a username."""

from axes.models import AccessAttempt
from axes.utils import reset
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth import views as auth_views
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import connection
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .actors import client_ip
from .row_versions import columns, prepared_objects, table

NAME_MAX = 254


def _user_sql() -> str:
    """A user by id (its one parameter), with `group_names`: the names of their groups."""
    user = get_user_model()
    memberships = user.groups.through
    return (
        f"SELECT {columns(user, 'u')},"
        " coalesce(array_agg(g.name) FILTER (WHERE g.name IS NOT NULL), '{}') AS group_names"
        f" FROM {table(user)} u"
        f" LEFT JOIN {table(memberships)} m ON m.user_id = u.id"
        f" LEFT JOIN {table(Group)} g ON g.id = m.group_id WHERE u.id = %s GROUP BY u.id"
    )


class UsernameOrEmailBackend(ModelBackend):
    def get_user(self, user_id):
        """The logged-in user of a request, with the names of their groups (roles.role_of
        reads them: every page asks) in the same query on PostgreSQL, not one query after, and
        through a statement prepared once per connection (row_versions.prepared_objects)."""
        if connection.vendor != "postgresql":
            return super().get_user(user_id)
        found = prepared_objects(get_user_model(), _user_sql(), [int(user_id)])
        user = found[0] if found else None
        return user if user is not None and self.user_can_authenticate(user) else None

    def authenticate(self, request, username=None, password=None, **kwargs):
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is not None or not username or "@" not in username:
            return user
        # An email shared by two accounts is ambiguous: neither may log in with it.
        matches = list(get_user_model().objects.filter(email__iexact=username.strip())[:2])
        if len(matches) == 1:
            candidate = matches[0]
            if candidate.check_password(password) and self.user_can_authenticate(candidate):
                return candidate
        return None


def login_name(request, credentials: dict | None) -> str:
    """The name failed logins are counted under: the account's username, however it was typed
    ("Ann@Example.org " is ann's email), so one account gets one allowance of wrong passwords,
    not one for its username and another for its email."""
    name = (credentials or {}).get("username")
    if name is None and request is not None:
        name = request.POST.get("username")
    # No account has a longer name or email (254): a longer one is cut to fit the lockout
    # table (axes stores up to 255) instead of failing the login with a database error.
    name = (name or "").strip().lower()[:NAME_MAX]
    if "@" in name:
        owners = list(
            get_user_model()
            .objects.filter(email__iexact=name)
            .values_list("username", flat=True)[:2]
        )
        if len(owners) == 1:
            return owners[0].lower()
    return name


# No password is longer: hashing (Argon2) a megabyte-long one on every attempt would let anyone
# keep the server busy from the login page.
PASSWORD_MAX = 256


class LoginForm(AuthenticationForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].label = _("Username or email")
        password = self.fields["password"]
        password.validators.append(MaxLengthValidator(PASSWORD_MAX))
        password.widget.attrs["maxlength"] = PASSWORD_MAX


class MaximumLengthValidator:
    """A new password is at most PASSWORD_MAX characters (AUTH_PASSWORD_VALIDATORS)."""

    def validate(self, password, user=None):
        if len(password) > PASSWORD_MAX:
            raise ValidationError(
                _("Choose a password of at most %(n)d characters.") % {"n": PASSWORD_MAX},
                code="password_too_long",
            )

    def get_help_text(self):
        return _("At most %(n)d characters.") % {"n": PASSWORD_MAX}


def locked_out(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """What a locked-out login sees (axes calls this): how long to wait, and the way out."""
    context = {
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
    }
    return render(
        request,
        "registration/locked_out.html",
        context,
        status=settings.AXES_HTTP_RESPONSE_CODE,
    )


def throttled(request: HttpRequest) -> bool:
    """Password spraying and guessing across addresses: too many wrong passwords in the last
    LOGIN_LOCKOUT_MINUTES from this address (for any names: LOGIN_ADDRESS_LIMIT) or for this
    name (from any address: LOGIN_ACCOUNT_LIMIT). Counted from axes' failed attempts (which
    also pause one name from one address after LOGIN_FAILURE_LIMIT), by the name as typed, so
    an unknown name gets the same answer as a known one."""
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    recent = AccessAttempt.objects.filter(attempt_time__gte=since)
    # As axes stores it (a NUL, which PostgreSQL can't compare, can't be in a stored name).
    name = login_name(request, None).replace("\x00", "")
    name = name[: AccessAttempt._meta.get_field("username").max_length]

    def failures(**where) -> int:
        return recent.filter(**where).aggregate(n=Sum("failures_since_start"))["n"] or 0

    return failures(ip_address=client_ip(request)) >= settings.LOGIN_ADDRESS_LIMIT or (
        bool(name) and failures(username=name) >= settings.LOGIN_ACCOUNT_LIMIT
    )


class LoginView(auth_views.LoginView):
    """The login page, paused for an address or a name that failed too often (throttled)."""

    redirect_authenticated_user = True
    authentication_form = LoginForm

    def post(self, request, *args, **kwargs):
        if throttled(request):
            return locked_out(request)
        return super().post(request, *args, **kwargs)


class PasswordResetView(auth_views.PasswordResetView):
    """Ask for a reset link: queued through the outbox (password_reset), the same answer
    whether or not the address has an account; too many requests from one address are
    refused."""

    def form_valid(self, form):
        from .password_reset import request_reset

        if not request_reset(email=form.cleaned_data["email"], ip=client_ip(self.request)):
            context = {"minutes": 60}
            return render(
                self.request, "registration/password_reset_limited.html", context, status=429
            )
        return HttpResponseRedirect(self.get_success_url())


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Setting a new password through the emailed link also lifts a lockout: whoever can read
    the account's email is its owner, and the lockout page sends them here."""

    def form_valid(self, form):
        response = super().form_valid(form)
        user = form.user
        for name in {user.username.strip().lower(), (user.email or "").strip().lower()} - {""}:
            reset(username=name)
        return response
