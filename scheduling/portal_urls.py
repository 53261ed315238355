from django.urls import path

from . import portal

app_name = "portal"

urlpatterns = [
    path("portal/", portal.schedule, name="schedule"),
    path("portal/appointments/<int:pk>/", portal.appointment_detail, name="appointment"),
    path("portal/appointments/<int:pk>/cancel/", portal.appointment_cancel, name="cancel"),
    path("portal/appointments/<int:pk>/move/", portal.appointment_move, name="move"),
    path("portal/appointments/<int:pk>.ics", portal.appointment_ics, name="appointment_ics"),
    path("portal/calendar/", portal.calendar_settings, name="calendar"),
    path("portal/calendar/<str:token>.ics", portal.calendar_feed, name="feed"),
    path("portal/preferences/", portal.preferences, name="preferences"),
]
