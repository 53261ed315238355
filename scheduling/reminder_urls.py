from django.urls import path

from . import reminder_views

app_name = "reminders"

urlpatterns = [
    path("messages/stop/<str:token>/", reminder_views.unsubscribe, name="unsubscribe"),
    path("patients/<int:pk>/messages/", reminder_views.patient_messages, name="patient"),
    path(
        "messages/<int:pk>/<slug:action>/",
        reminder_views.act_on_given_up,
        name="act",
    ),
]
