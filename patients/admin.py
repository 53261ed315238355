"""Clinic administrators read the audit trail here. Patient records themselves are not in the
admin: every read of them goes through the audited pages. The administrator sees who did what
to which record number, never the patient's data (issue 14): a patient's own account is not
named (its name is their email) and the details show which fields, not their values."""

from django.contrib import admin
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _

from goodskin.roles import patient_accounts, staff_accounts

from .models import AuditEntry


def outline(details) -> str:
    """What an entry's details are about without their values (old and new names, phones,
    screening answers, a merge's reason): keys, field names, ids and counts."""
    if not isinstance(details, dict):
        return ""
    parts = []
    for key, value in details.items():
        if isinstance(value, dict):
            shown = ", ".join(str(name) for name in value)
        elif isinstance(value, bool | int | float) or value is None:
            shown = str(value)
        elif isinstance(value, list) and all(isinstance(v, int) for v in value):
            shown = ", ".join(str(v) for v in value)
        else:
            shown = "…"
        parts.append(f"{key}: {shown}")
    return "; ".join(parts)


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("at", "who", "role", "patient_id", "action", "subject", "ip", "about")
    # Each row is all there is to see: an entry's own page would title it with its user's
    # name, a patient's email when the patient acted.
    list_display_links = None
    list_filter = ("action", "role")
    search_fields = ("=patient__id", "subject")
    date_hierarchy = "at"
    list_select_related = ("user",)

    def get_queryset(self, request):
        by_patient = Exists(patient_accounts().filter(pk=OuterRef("user_id")))
        return super().get_queryset(request).annotate(by_patient_account=by_patient)

    def get_search_results(self, request, queryset, search_term):
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        # A staff member's name finds their entries; a patient's login name finds nothing.
        name = search_term.strip()
        if name:
            found |= queryset.filter(user__in=staff_accounts().filter(username__iexact=name))
        return found, may_have_duplicates

    @admin.display(description=_("user"))
    def who(self, entry) -> str:
        if entry.user_id is None:
            return "-"
        if entry.by_patient_account:
            return _("the patient's own account")
        return entry.user.username

    @admin.display(description=_("details"))
    def about(self, entry) -> str:
        return outline(entry.details)

    def has_view_permission(self, request, obj=None):
        return obj is None and super().has_view_permission(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
