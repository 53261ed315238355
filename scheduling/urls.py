from django.urls import path

from . import home, office_views, printout_views, views, waitlist_views

app_name = "scheduling"

urlpatterns = [
    path("schedule/day/", views.day_view, name="day"),
    path("schedule/week/", views.week_view, name="week"),
    path("schedule/my-day/", views.my_day, name="my_day"),
    path("schedule/slots/", views.slot_search, name="slots"),
    path("schedule/time-off/", views.time_off, name="time_off"),
    path("schedule/time-off/<int:pk>/lift/", waitlist_views.time_off_lift, name="time_off_lift"),
    path("schedule/waitlist/", waitlist_views.waitlist, name="waitlist"),
    path(
        "schedule/waitlist/<int:pk>/remove/",
        waitlist_views.waitlist_remove,
        name="waitlist_remove",
    ),
    path("patients/<int:pk>/waitlist/new/", waitlist_views.waitlist_add, name="waitlist_add"),
    path("schedule/online-requests/", views.online_requests, name="online_requests"),
    path("schedule/check-ins/<int:pk>/called/", home.check_in_called, name="check_in_called"),
    path("schedule/offices/", office_views.office_list, name="offices"),
    path("schedule/offices/new/", office_views.office_new, name="office_new"),
    path("schedule/offices/<int:pk>/", office_views.office_detail, name="office"),
    path("schedule/offices/<int:pk>/rooms/", office_views.room_add, name="room_add"),
    path(
        "schedule/offices/<int:pk>/rooms/<int:room_pk>/",
        office_views.room_change,
        name="room_change",
    ),
    path("schedule/offices/<int:pk>/hours/", office_views.hours_add, name="hours_add"),
    path(
        "schedule/offices/<int:pk>/hours/<int:hours_pk>/",
        office_views.hours_edit,
        name="hours_edit",
    ),
    path("patients/<int:pk>/appointments/new/", views.book_appointment, name="book"),
    path("plans/<int:pk>/book-series/", views.book_series, name="book_series"),
    path(
        "patients/<int:patient_pk>/plans/<int:pk>/summary/",
        printout_views.plan_summary_page,
        name="plan_summary",
    ),
    path(
        "patients/<int:patient_pk>/plans/<int:pk>/summary.pdf",
        printout_views.plan_summary_pdf,
        name="plan_summary_pdf",
    ),
    path("appointments/<int:pk>/", views.appointment_detail, name="appointment"),
    path(
        "appointments/<int:pk>/aftercare-sheet/",
        views.appointment_aftercare_sheet,
        name="aftercare_sheet",
    ),
    path(
        "appointments/<int:pk>/aftercare-sheet.pdf",
        views.appointment_aftercare_sheet_pdf,
        name="aftercare_sheet_pdf",
    ),
    path("appointments/<int:pk>/move/", views.appointment_move, name="move"),
    path("appointments/<int:pk>/cancel/", views.appointment_cancel, name="cancel"),
    path("appointments/<int:pk>/status/", views.appointment_status, name="status"),
    path("appointments/<int:pk>/rescreen/", views.rescreen, name="rescreen"),
]
