"""Clinic administrators read the audit trail here. Patient records themselves are not in the
admin: every read of them goes through the audited pages. The administrator sees who did what
to which record number, never the patient's data (issue 14): a patient's own account is not
named (its name is their email) and the details show which fields, not their values, on the
page and in the CSV alike.

The audit list is for administrators only, and reading it is audited like any patient data:
each page of the list, each CSV export and each check of the hash chain writes an entry."""

import csv
import json
from datetime import date, datetime, time, timedelta

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef
from django.http import HttpResponseRedirect, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from goodskin.actors import Actor
from goodskin.roles import Role, patient_accounts, role_of, staff_accounts

from . import audit, chain
from .models import AuditAction, AuditEntry, Patient

# The years a date filter accepts: anything else is a typing mistake, not a search.
FIRST_YEAR, LAST_YEAR = 2000, 2200
# A cell starting with one of these is a formula to a spreadsheet: it is exported quoted.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_COLUMNS = (
    "seq",
    "at",
    "user",
    "role",
    "patient_id",
    "action",
    "subject",
    "ip",
    "details",
    "prev_hash",
    "hash",
)
# What each column is read from (the user and the details are shown as on the page).
CSV_FIELDS = tuple(
    {"user": "user__username", "details": "details"}.get(c, c) for c in CSV_COLUMNS
) + ("by_patient_account",)


class InputFilter(admin.SimpleListFilter):
    """A filter typed into a box, for values too many to list (patients, users, dates)."""

    template = "admin/patients/input_filter.html"
    input_type = "text"

    def lookups(self, request, model_admin):
        return ()

    def has_output(self) -> bool:
        return True

    def choices(self, changelist):
        kept = {"p", "e", self.parameter_name}
        yield {
            "name": self.parameter_name,
            "type": self.input_type,
            "value": self.value() or "",
            "hidden": [(k, v) for k, v in changelist.params.items() if k not in kept],
        }

    def queryset(self, request, queryset):
        value = (self.value() or "").strip()
        if not value:
            return queryset
        try:
            return self.filter(queryset, value)
        except (ValueError, OverflowError) as error:
            raise IncorrectLookupParameters(error) from error

    def filter(self, queryset, value: str):
        raise NotImplementedError


class PatientFilter(InputFilter):
    title = _("patient record number")
    parameter_name = "patient"

    def filter(self, queryset, value):
        return queryset.filter(patient_id=int(value))


class UserFilter(InputFilter):
    title = _("user name")
    parameter_name = "user"

    def filter(self, queryset, value):
        # A staff member's name; a patient's login name (their email) finds nothing.
        return queryset.filter(user__in=staff_accounts().filter(username__iexact=value))


class RoleFilter(admin.SimpleListFilter):
    """The role of whoever acted, by its name, and "the system" for what no one did: the plain
    field filter listed that empty role as a link with no text (issue 18, accessibility)."""

    title = _("role")
    parameter_name = "role"
    SYSTEM = "system"

    def lookups(self, request, model_admin):
        return [*Role.choices, (self.SYSTEM, _("the system"))]

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        return queryset.filter(role="" if value == self.SYSTEM else value)


def _start_of(text: str) -> datetime:
    """The first instant of a clinic-local day typed as YYYY-MM-DD."""
    day = date.fromisoformat(text)
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise ValueError(text)
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


class FromDateFilter(InputFilter):
    title = _("from date (YYYY-MM-DD)")
    parameter_name = "from"
    input_type = "date"

    def filter(self, queryset, value):
        return queryset.filter(at__gte=_start_of(value))


class UntilDateFilter(InputFilter):
    title = _("until date (YYYY-MM-DD), included")
    parameter_name = "until"
    input_type = "date"

    def filter(self, queryset, value):
        # The next day's start, computed on the calendar: a DST day has 23 or 25 hours.
        next_day = date.fromisoformat(value) + timedelta(days=1)
        return queryset.filter(at__lt=_start_of(next_day.isoformat()))


def _cell(value) -> str:
    if isinstance(value, dict | list):
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    else:
        text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class _Echo:
    """csv.writer writes into this; each row comes back as a string to stream."""

    def write(self, value: str) -> str:
        return value


def _csv_rows(queryset):
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    user, details = CSV_COLUMNS.index("user"), CSV_COLUMNS.index("details")
    for *row, by_patient_account in queryset.values_list(*CSV_FIELDS).iterator(chunk_size=2000):
        if by_patient_account:
            row[user] = str(_("the patient's own account"))
        row[details] = outline(row[details])
        yield writer.writerow([_cell(value) for value in row])


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
    list_filter = (PatientFilter, UserFilter, "action", RoleFilter, FromDateFilter, UntilDateFilter)
    search_fields = ("=patient__id", "subject")
    list_select_related = ("user",)
    change_list_template = "admin/patients/auditentry/change_list.html"

    def has_module_permission(self, request):
        return role_of(request.user) == Role.ADMIN

    def has_view_permission(self, request, obj=None):
        return obj is None and role_of(request.user) == Role.ADMIN

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

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("export/", wrap(self.export_view), name="patients_auditentry_export"),
            path("verify/", wrap(self.verify_view), name="patients_auditentry_verify"),
            *super().get_urls(),
        ]

    def _record(self, request, action: AuditAction, subject: str, **details) -> None:
        patient = None
        if request.GET.get(PatientFilter.parameter_name, "").strip().isdigit():
            patient = Patient.objects.filter(pk=int(request.GET["patient"])).first()
        audit.record(
            actor=Actor.from_request(request),
            patient=patient,
            action=action,
            subject=subject,
            details={"filters": dict(request.GET.items()), **details},
        )

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        if changelist is not None:  # a bad filter redirects and shows nothing
            shown = len(changelist.result_list)
            self._record(request, AuditAction.VIEW, "audit list", shown=shown)
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if getattr(response, "context_data", None) is not None:
            self._record(request, AuditAction.VIEW, "audit entry", entry=str(object_id)[:20])
        return response

    def export_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            return HttpResponseRedirect(reverse("admin:patients_auditentry_changelist") + "?e=1")
        self._record(request, AuditAction.EXPORT, "audit list")
        response = StreamingHttpResponse(
            _csv_rows(changelist.queryset), content_type="text/csv; charset=utf-8"
        )
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
        return response

    def verify_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        result = chain.verify() if chain.supported() else None
        details = {"whole": result.whole, "checked": result.checked} if result else {}
        audit.record(
            actor=Actor.from_request(request),
            patient=None,
            action=AuditAction.VIEW,
            subject="audit chain check",
            details=details,
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Verify the audit chain"),
            "result": result,
            "more": result.break_count - len(result.breaks) if result else 0,
        }
        return TemplateResponse(request, "admin/patients/auditentry/verify.html", context)
