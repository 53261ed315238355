"""Clinic administrators read the audit trail here. Patient records themselves are not in the
admin: every read of them goes through the audited pages."""

from django.contrib import admin

from .models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("at", "user", "role", "patient_id", "action", "subject", "ip")
    list_filter = ("action", "role")
    search_fields = ("=patient__id", "user__username", "subject")
    date_hierarchy = "at"
    list_select_related = ("user",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
