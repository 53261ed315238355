"""The navigation bar: what the signed-in role may do."""

from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from .middleware import left
from .roles import Role, role_of


@dataclass(frozen=True)
class NavItem:
    label: str | Promise
    url_name: str


# Later issues add the patient list, the day and week views and the patient's schedule here.
NAV_ITEMS: dict[Role, tuple[NavItem, ...]] = {
    Role.FRONT_DESK: (
        NavItem(_("Front desk"), "frontdesk_home"),
        NavItem(_("Today"), "scheduling:day"),
        NavItem(_("Week"), "scheduling:week"),
        NavItem(_("Free times"), "scheduling:slots"),
        NavItem(_("Waitlist"), "scheduling:waitlist"),
        NavItem(_("Time off"), "scheduling:time_off"),
        NavItem(_("Patients"), "patients:list"),
    ),
    Role.DOCTOR: (
        NavItem(_("My day"), "scheduling:my_day"),
        NavItem(_("Clinic day"), "scheduling:day"),
        NavItem(_("Home"), "doctor_home"),
        NavItem(_("Time off"), "scheduling:time_off"),
        NavItem(_("Patients"), "patients:list"),
        NavItem(_("Reports"), "reports:index"),
    ),
    Role.PATIENT: (
        NavItem(_("My schedule"), "portal:schedule"),
        NavItem(_("My details"), "portal:my_record"),
        NavItem(_("My treatment"), "portal:treatment"),
    ),
    Role.ADMIN: (
        NavItem(_("Administration"), "admin:index"),
        NavItem(_("Offices"), "scheduling:offices"),
        NavItem(_("Reports"), "reports:index"),
    ),
}


def second_step_pending(request) -> bool:
    """The session logged in with its password but still owes its code (two-step login)."""
    from .two_factor import NEEDED

    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not hasattr(request, "session"):
        return False
    return bool(request.session.get(NEEDED)) and not user.is_verified()


def navigation(request) -> dict:
    role = role_of(request.user) if hasattr(request, "user") else None
    pending = second_step_pending(request)
    if pending:  # its menu would only lead back to the code page
        role = None
    path = request.path
    items = [
        {"label": item.label, "url": reverse(item.url_name)} for item in NAV_ITEMS.get(role, ())
    ]
    # The current page belongs to the item with the longest matching address, so /portal/
    # is not also lit on /portal/my-details/.
    matching = [item for item in items if path.startswith(item["url"])]
    current = max(matching, key=lambda item: len(item["url"]), default=None)
    for item in items:
        item["active"] = item is current
    return {
        "user_role": role,
        "user_role_label": role.label if role else "",
        "second_step_pending": pending,
        "nav_items": items,
        # A patient search on every page of the front desk and the doctors.
        "show_patient_search": role in (Role.FRONT_DESK, Role.DOCTOR),
        "clinic_name": settings.CLINIC_NAME,
    }


def session_limits(request) -> dict:
    """How long the page's session may stay idle and how long it has left in all, for the
    warning a minute before it ends (static/js/session.js)."""
    limits = left(request)
    if limits is None:
        return {}
    idle, total_left = limits
    return {
        "session_idle": idle,
        "session_left": total_left,
        "session_warning": settings.SESSION_WARNING_SECONDS,
    }


def choices(request) -> dict:
    """The TextChoices that templates compare with (`plan.status == PlanStatus.ACTIVE`), so no
    template spells a status, kind or role as a string of its own."""
    from messaging.models import MessageStatus
    from patients.screening import Answer
    from patients.screening import Kind as QuestionKind
    from scheduling.models import Kind as AppointmentKind
    from scheduling.models import Status as AppointmentStatus
    from treatments.models import PlanStatus

    return {
        "Role": Role,
        "Answer": Answer,
        "QuestionKind": QuestionKind,
        "MessageStatus": MessageStatus,
        "PlanStatus": PlanStatus,
        "AppointmentKind": AppointmentKind,
        "AppointmentStatus": AppointmentStatus,
    }
