"""The Django admin shows clinic administrators no patient data (issue 14): the patient pages
answer them 404, so the admin must not show what those pages hide. A patient's login name is
their email and their account carries their name, so user accounts, login records and every
menu of users in the admin are limited to staff accounts."""

from axes import admin as axes_admin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin, messages
from django.contrib.auth import admin as auth_admin
from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from . import two_factor
from .actors import Actor
from .roles import staff_accounts

User = get_user_model()


class StaffAccountsOnly:
    """A ModelAdmin mixin: menus of users offer staff accounts only, never a patient's."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.remote_field.model is User:
            kwargs["queryset"] = staff_accounts()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class StaffAccountFilter(admin.RelatedFieldListFilter):
    """A list filter on a user field that offers staff accounts only."""

    def field_choices(self, field, request, model_admin):
        staff = {"pk__in": staff_accounts().values("pk")}
        return field.get_choices(include_blank=False, limit_choices_to=staff)


admin.site.unregister(User)


@admin.register(User)
class UserAdmin(auth_admin.UserAdmin):
    """Staff accounts only: a patient's account (their email, their name) is theirs to manage
    in the portal, or the front desk's, who may see it. Its change, password and history pages
    answer as if it did not exist, and so does the admin's user autocomplete."""

    actions = ["reset_two_factor"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(pk__in=staff_accounts().values("pk"))

    @admin.action(description=_("Reset two-step login (a lost or new phone)"))
    def reset_two_factor(self, request, queryset):
        """The staff member sets it up again at their next login; each reset is audited."""
        by = Actor.from_request(request)
        for account in queryset:
            two_factor.reset(account=account, by=by)
        self.message_user(
            request,
            _("Two-step login was reset for %(n)d accounts: each sets it up again at login.")
            % {"n": len(queryset)},
            messages.SUCCESS,
        )


def _is_staff_name():
    # Axes records the name typed at login (a username or an email, in any case): a patient's
    # email, or anything a person mistyped, unless it names a staff account.
    typed = OuterRef("username")
    return Exists(staff_accounts().filter(Q(username__iexact=typed) | Q(email__iexact=typed)))


class LoginRecordAdmin:
    """Axes' lists of logins and failed attempts, with the typed name shown only when it is a
    staff account's; a row of any other name is listed (time, address) but not opened."""

    search_fields = ("ip_address", "=username", "path_info")
    ordering = ("-attempt_time",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(staff_name=_is_staff_name())

    # Not sortable: the order of hidden names would hint at them.
    @admin.display(description=_("name typed"))
    def typed_name(self, obj) -> str:
        return obj.username if obj.staff_name else _("(not a staff account)")

    def has_view_permission(self, request, obj=None):
        if obj is not None and not getattr(obj, "staff_name", False):
            return False
        return super().has_view_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        # Every field is read-only; "change" would open the row's page as "view" does.
        if obj is not None and not getattr(obj, "staff_name", False):
            return False
        return super().has_change_permission(request, obj)

    def get_list_display(self, request):
        shown = super().get_list_display(request)
        return [("typed_name" if name == "username" else name) for name in shown]


for model in (AccessAttempt, AccessLog, AccessFailureLog):
    admin.site.unregister(model)


@admin.register(AccessAttempt)
class AccessAttemptAdmin(LoginRecordAdmin, axes_admin.AccessAttemptAdmin):
    # The form data repeats the typed name; the name and the counts are enough.
    fieldsets = (
        (None, {"fields": ("username", "path_info", "failures_since_start", "expiration")}),
        (_("Meta Data"), {"fields": ("user_agent", "ip_address", "http_accept")}),
    )


@admin.register(AccessLog)
class AccessLogAdmin(LoginRecordAdmin, axes_admin.AccessLogAdmin):
    def has_delete_permission(self, request, obj=None):
        # A record of who logged in is evidence; and its name would show on the delete page.
        return False


@admin.register(AccessFailureLog)
class AccessFailureLogAdmin(LoginRecordAdmin, axes_admin.AccessFailureLogAdmin):
    def has_delete_permission(self, request, obj=None):
        return False


# django-otp's own device lists would show every account's devices (a patient's login name
# among them) and each device's secret: the reset above is what an administrator needs.
for model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
