"""Two-step login (issue 14): after the password, a six-digit code from an authenticator app
(django-otp's TOTP device), or one of ten one-time recovery codes (its static device).

Required for the roles in TWO_FACTOR_ROLES (the staff, by default); a patient may turn it on.
Whether a session still owes its second step is worked out once, at login, and kept in the
session (NEEDED), so the pages of someone without it cost no query.
"""

from dataclasses import dataclass

import segno
from django.conf import settings
from django.db import transaction
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from .actors import Actor
from .roles import role_of

# The session's own note: does this login need its second step? (True, False, or absent for
# a session from before two-step login existed: worked out on its next request.)
NEEDED = "two_factor_needed"
RECOVERY_CODES = 10
APP_DEVICE_NAME = "Authenticator app"
RECOVERY_DEVICE_NAME = "Recovery codes"


class TwoFactorError(Exception):
    """A code that was refused, with the reason in words the person can act on."""


def required(user) -> bool:
    """The user's role must log in with two steps (TWO_FACTOR_ROLES)."""
    role = role_of(user)
    return role is not None and role.value in settings.TWO_FACTOR_ROLES


def app_device(user, *, confirmed: bool = True) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=confirmed).order_by("pk").first()


def enrolled(user) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def needed(user) -> bool:
    """This user's logins owe a second step: their role requires it, or they turned it on."""
    return required(user) or enrolled(user)


def note_login(request, user) -> None:
    """At each login (and so at each new session key): note whether a second step is owed."""
    request.session[NEEDED] = needed(user)


def pending_device(user) -> TOTPDevice:
    """The device being enrolled: the same secret however often the setup page is opened,
    until it is confirmed with a code."""
    device = app_device(user, confirmed=False)
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=APP_DEVICE_NAME, confirmed=False)
    return device


def qr_svg(device: TOTPDevice) -> str:
    """The enrolment address as an inline SVG QR code (no image request, nothing external)."""
    return segno.make(device.config_url, error="m").svg_inline(
        scale=4, dark="#000", light="#fff", border=2
    )


def spaced_secret(device: TOTPDevice) -> str:
    """The secret as an app asks for it when typed in: base32, in groups of four."""
    from base64 import b32encode

    secret = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _clean(code: str) -> str:
    return "".join((code or "").split()).replace("-", "").lower()[:32]


def _refusal(device, token: str) -> TwoFactorError | None:
    """Why a code is refused: wrong, or any code while the device waits out earlier wrong
    ones (django-otp's pause doubles with each: 1, 2, 4, 8 seconds...). Returned, not raised,
    so the caller's transaction commits the count of wrong codes before it raises."""
    if not device.verify_is_allowed()[0]:
        return TwoFactorError("wait")
    if not device.verify_token(token):
        return TwoFactorError("wrong")
    return None


def _new_recovery_codes(user) -> list[str]:
    """Ten fresh one-time codes; any earlier ones stop working."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def _passed(request, device) -> None:
    """The second step is done: the session remembers the device and gets a new key, so a
    key seen before this step (on a shared screen, in a log) opens nothing."""
    otp_login(request, device)
    request.session.cycle_key()
    request.session[NEEDED] = True


def _audit(*, by: Actor, account, what: str, patient=None) -> None:
    from patients import audit
    from patients.models import AuditAction

    audit.record(
        actor=by,
        patient=patient,
        action=AuditAction.SECURITY,
        subject=f"account:{account.pk}",
        details={"two_factor": what},
    )


def confirm_enrolment(request, *, code: str) -> list[str]:
    """The first code from the new app: the device is confirmed, the session passes its second
    step, and ten recovery codes are made (returned to be shown once)."""
    user = request.user
    with transaction.atomic(durable=True):
        # Locked: two tabs confirming at once make one device and one set of codes.
        device = (
            TOTPDevice.objects.select_for_update()
            .filter(user=user, confirmed=False)
            .order_by("pk")
            .first()
        )
        if device is None or TOTPDevice.objects.filter(user=user, confirmed=True).exists():
            raise TwoFactorError("stale")
        refused = _refusal(device, _clean(code))
        if refused is None:
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            TOTPDevice.objects.filter(user=user, confirmed=False).delete()
            codes = _new_recovery_codes(user)
            _audit(by=Actor.from_request(request), account=user, what="turned on")
    if refused is not None:
        raise refused
    _passed(request, device)
    return codes


@dataclass(frozen=True)
class Verified:
    device_kind: str  # "app" or "recovery"
    recovery_left: int


def verify(request, *, code: str) -> Verified:
    """A code at login: the app's six digits, or a recovery code (used up by this)."""
    user, token = request.user, _clean(code)
    with transaction.atomic(durable=True):
        # Locked: one code passes once, even when sent twice at the same moment (TOTP keeps
        # the last step used; a recovery code is deleted by the first).
        if token.isascii() and token.isdigit() and len(token) == 6:
            device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True)
            device = device.order_by("pk").first()
            kind = "app"
        else:
            device = StaticDevice.objects.select_for_update().filter(user=user).first()
            kind = "recovery"
        if device is None:
            raise TwoFactorError("wrong")
        refused = _refusal(device, token)
        left = StaticToken.objects.filter(device__user=user).count()
        if refused is None and kind == "recovery":
            _audit(by=Actor.from_request(request), account=user, what="recovery code used")
    if refused is not None:
        raise refused
    _passed(request, device)
    return Verified(device_kind=kind, recovery_left=left)


def renew_recovery_codes(request) -> list[str]:
    with transaction.atomic(durable=True):
        codes = _new_recovery_codes(request.user)
        _audit(by=Actor.from_request(request), account=request.user, what="new recovery codes")
    return codes


def _remove(user) -> int:
    removed = TOTPDevice.objects.filter(user=user).delete()[0]
    return removed + StaticDevice.objects.filter(user=user).delete()[0]


def turn_off(request, *, code: str) -> None:
    """The person turns two-step login off (only where their role doesn't require it), with a
    current code, so a borrowed open session can't."""
    user = request.user
    if required(user):
        raise TwoFactorError("required")
    with transaction.atomic(durable=True):
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
        if device is None:
            raise TwoFactorError("stale")
        refused = _refusal(device, _clean(code))
        if refused is None:
            _remove(user)
            _audit(by=Actor.from_request(request), account=user, what="turned off")
    if refused is not None:
        raise refused
    request.session.pop(DEVICE_ID_SESSION_KEY, None)
    request.session[NEEDED] = False


def reset(*, account, by: Actor, patient=None) -> bool:
    """A lost phone: someone allowed to (an administrator for staff, the front desk for a
    patient) removes the account's devices and codes; its next login enrols again. Audited,
    whether or not there was anything to remove. Sessions already open stay (and ask for the
    second step again: their device is gone)."""
    with transaction.atomic(durable=True):
        removed = _remove(account)
        _audit(by=by, account=account, what="reset", patient=patient)
    return removed > 0
