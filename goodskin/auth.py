"""Login by username or by email address: patients know their email, not a username."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _


class UsernameOrEmailBackend(ModelBackend):
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


class LoginForm(AuthenticationForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].label = _("Username or email")
