from django.urls import path

from . import reminder_views

app_name = "reminders"

urlpatterns = [
    path("messages/stop/<str:token>/", reminder_views.unsubscribe, name="unsubscribe"),
    path("patients/<int:pk>/messages/", reminder_views.patient_messages, name="patient"),
]
