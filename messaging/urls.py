from django.urls import path

from . import views

app_name = "messaging"

urlpatterns = [
    path("messages/stop/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("messages/sms/status/", views.sms_status, name="sms_status"),
    path("patients/<int:pk>/messages/", views.patient_messages, name="patient"),
    path("messages/<int:pk>/<slug:action>/", views.act_on_given_up, name="act"),
]
