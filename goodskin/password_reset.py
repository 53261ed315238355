"""Password reset links: limited per address and per account, and mailed through the message
outbox, so the page answers at once and in the same way whether or not the address belongs
to an account (what an attacker would measure), and a mail server that is down loses nothing.

The link's token is made when the message is sent, not stored: the outbox keeps the text of
what it sent without the link (`Rendered.kept`)."""

import uuid
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.tokens import default_token_generator
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from messaging import kinds, outbox
from messaging.kinds import MessageKind, Rendered
from messaging.models import Channel, Message

from .models import ResetRequest

KIND = "password_reset"
WINDOW = timedelta(hours=1)
# Sent within this time or not at all: a link asked for yesterday is no use to anyone.
USEFUL_FOR = timedelta(hours=1)


@transaction.atomic
def request_reset(*, email: str, ip: str | None) -> bool:
    """Queue a reset link to each active account with this email address, unless the account
    had PASSWORD_RESET_PER_ACCOUNT links in the last hour (silently: the answer is the same).
    False, and nothing queued, when this address asked PASSWORD_RESET_PER_ADDRESS times in
    the last hour."""
    now = timezone.now()
    since = now - WINDOW
    if ResetRequest.objects.filter(ip=ip, at__gte=since).count() >= (
        settings.PASSWORD_RESET_PER_ADDRESS
    ):
        return False
    ResetRequest.objects.create(ip=ip, at=now)
    for user in PasswordResetForm().get_users(email):
        recent = Message.objects.filter(kind=KIND, staff=user, created_at__gte=since).count()
        if recent >= settings.PASSWORD_RESET_PER_ACCOUNT:
            continue
        outbox.put(
            outbox.Draft(
                key=f"pw{user.pk}:{uuid.uuid4().hex[:16]}",
                kind=KIND,
                staff=user,
                channel=Channel.EMAIL,
                due_at=now,
                give_up_at=now + USEFUL_FOR,
                language=_language_of(user),
            )
        )
    return True


def _language_of(user) -> str:
    """A patient's link is in their own language; anyone else's in the page's they asked on."""
    from patients.models import Patient

    own = Patient.objects.filter(portal_user=user).values_list("language", flat=True).first()
    return own or translation.get_language()


def _render(message, memo: dict) -> Rendered:
    user = message.staff
    site = urlsplit(settings.SITE_URL)
    context = {
        "email": user.email,
        "domain": site.netloc,
        "site_name": settings.CLINIC_NAME,
        "uid": urlsafe_base64_encode(force_bytes(user.pk)),
        "user": user,
        "token": default_token_generator.make_token(user),
        "protocol": site.scheme,
    }
    subject = "".join(
        render_to_string("registration/password_reset_subject.txt", context).splitlines()
    )
    text = render_to_string("registration/password_reset_email.html", context)
    kept = text.replace(context["token"], _("(the one-time link is not kept)"))
    return Rendered(subject=subject, text=text, html="", sms="", kept=kept)


def _reason_not_to_send(message) -> str:
    user = message.staff
    if user is None or not user.is_active or not user.has_usable_password():
        return "the account can no longer reset its password"
    return ""


def register() -> None:
    kinds.register(
        KIND,
        MessageKind(
            label=lambda kind: gettext_lazy("Password reset link"),
            render=_render,
            reason_not_to_send=_reason_not_to_send,
        ),
    )
