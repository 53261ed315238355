"""The clinic's roles and the checks every view uses.

A role is a Django group (created by a data migration); clinic administrators are superusers and
work in the Django admin. A user in more than one group acts in the first role of ROLE_ORDER.
"""

from collections.abc import Callable
from functools import wraps

from django.core.exceptions import PermissionDenied
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    DOCTOR = "doctor", _("Doctor")
    FRONT_DESK = "front_desk", _("Front desk")
    PATIENT = "patient", _("Patient")


# Group names as stored in auth_group (English, stable: they are data, not display text).
GROUP_NAMES = {
    Role.FRONT_DESK: "Front desk",
    Role.DOCTOR: "Doctor",
    Role.PATIENT: "Patient",
}
ROLE_ORDER = (Role.DOCTOR, Role.FRONT_DESK, Role.PATIENT)
STAFF_ROLES = (Role.FRONT_DESK, Role.DOCTOR)


def role_of(user) -> Role | None:
    """The role a user acts in, or None for anonymous users and users without a role."""
    if not user.is_authenticated or not user.is_active:
        return None
    # Cached on the user object: one group query per request at most.
    if not hasattr(user, "_goodskin_role"):
        # Read with the user when the login backend could (auth.UsernameOrEmailBackend).
        names = getattr(user, "group_names", None)
        names = set(user.groups.values_list("name", flat=True) if names is None else names)
        role = next((r for r in ROLE_ORDER if GROUP_NAMES[r] in names), None)
        if role is None and user.is_superuser:
            role = Role.ADMIN
        user._goodskin_role = role
    return user._goodskin_role


def role_required(*roles: Role) -> Callable:
    """Let only users acting in one of `roles` through; others get the 403 page."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if role_of(request.user) not in roles:
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def group_for(role: Role):
    """The auth group of a role (made by a migration; made again if a test flushed it)."""
    from django.contrib.auth.models import Group

    return Group.objects.get_or_create(name=GROUP_NAMES[role])[0]


def patient_accounts():
    """Users who act as patients (their username is their email, their name the patient's):
    in the Patient group and in no staff group."""
    from django.contrib.auth import get_user_model

    staff_groups = [GROUP_NAMES[role] for role in STAFF_ROLES]
    return (
        get_user_model()
        .objects.filter(groups__name=GROUP_NAMES[Role.PATIENT])
        .exclude(groups__name__in=staff_groups)
    )


def staff_accounts():
    """Every other user: the clinic's staff, administrators and accounts not yet given a role.
    The Django admin shows only these (issue 14: it shows no patient data)."""
    from django.contrib.auth import get_user_model

    return get_user_model().objects.exclude(pk__in=patient_accounts().values("pk"))
