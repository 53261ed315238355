"""Every page a patient sees. The paths are older than this app: links in sent emails and in
calendar apps point at them, so they never change."""

from django.urls import path

from .views import (
    account,
    appointments,
    booking,
    calendar,
    check_in,
    online,
    printouts,
    screening,
    treatment,
    waitlist,
)

app_name = "portal"

urlpatterns = [
    path("portal/", appointments.schedule, name="schedule"),
    path("portal/appointments/<int:pk>/", appointments.appointment_detail, name="appointment"),
    path("portal/appointments/<int:pk>/cancel/", appointments.appointment_cancel, name="cancel"),
    path(
        "portal/appointments/<int:pk>/undo-cancel/",
        appointments.appointment_undo_cancel,
        name="undo_cancel",
    ),
    path("portal/appointments/<int:pk>/move/", appointments.appointment_move, name="move"),
    path("portal/appointments/<int:pk>.ics", appointments.appointment_ics, name="appointment_ics"),
    path(
        "portal/appointments/<int:pk>/aftercare/",
        printouts.my_aftercare_sheet,
        name="aftercare_sheet",
    ),
    path(
        "portal/appointments/<int:pk>/aftercare.pdf",
        printouts.my_aftercare_sheet_pdf,
        name="aftercare_sheet_pdf",
    ),
    path("portal/book/", online.book_consultation, name="book"),
    path("portal/book/sent/", online.book_sent, name="book_sent"),
    path("portal/book/confirm/<str:token>/", online.book_confirm, name="book_confirm"),
    path("portal/book/next-session/", booking.book_next_session, name="book_next"),
    path("portal/health-questions/", screening.my_screening, name="screening"),
    path("portal/calendar/", calendar.calendar_settings, name="calendar"),
    path("portal/calendar/<str:token>.ics", calendar.calendar_feed, name="feed"),
    path("portal/preferences/", account.preferences, name="preferences"),
    path("portal/my-details/", account.my_record, name="my_record"),
    path("portal/my-details/record.json", account.my_record_json, name="my_record_json"),
    path("portal/my-details/record.pdf", account.my_record_pdf, name="my_record_pdf"),
    path("portal/welcome/<str:token>/", account.open_account, name="open_account"),
    path("portal/treatment/", treatment.my_treatment, name="treatment"),
    path("portal/treatment/plans/<int:pk>/", treatment.my_plan, name="plan"),
    path(
        "portal/treatment/plans/<int:pk>/summary/", printouts.my_plan_summary, name="plan_summary"
    ),
    path(
        "portal/treatment/plans/<int:pk>/summary.pdf",
        printouts.my_plan_summary_pdf,
        name="plan_summary_pdf",
    ),
    path("portal/check-in/<str:token>/", check_in.check_in, name="check_in"),
    path("portal/waitlist/", waitlist.my_waitlist, name="waitlist"),
    path("portal/waitlist/<int:pk>/leave/", waitlist.leave_waitlist, name="leave_waitlist"),
    path("portal/waitlist/offer/<str:token>/", waitlist.offer, name="waitlist_offer"),
]
