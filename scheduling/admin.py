"""Administrators set up the calendar here: locations, rooms, closed days, doctors' hours and
the numbers."""

from django.contrib import admin

from goodskin.admin import StaffAccountFilter, StaffAccountsOnly

from .models import ClosedDay, Location, Room, SchedulingSettings, TimeOff, WorkingHours


class RoomInline(admin.TabularInline):
    model = Room
    extra = 0


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = ("name", "time_zone", "phone")
    inlines = [RoomInline]


@admin.register(WorkingHours)
class WorkingHoursAdmin(StaffAccountsOnly, admin.ModelAdmin):
    list_display = ("doctor", "weekday", "starts", "ends", "location")
    list_filter = (("doctor", StaffAccountFilter), "weekday")


@admin.register(TimeOff)
class TimeOffAdmin(StaffAccountsOnly, admin.ModelAdmin):
    list_display = ("doctor", "starts_at", "ends_at", "reason")
    list_filter = (("doctor", StaffAccountFilter),)


@admin.register(SchedulingSettings)
class SchedulingSettingsAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return not SchedulingSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ClosedDay)
class ClosedDayAdmin(admin.ModelAdmin):
    """Holidays and closures; `manage.py propose_holidays --year Y` adds the US federal ones."""

    list_display = ("day", "location", "reason")
    list_filter = ("location",)
    date_hierarchy = "day"
    search_fields = ("reason",)
