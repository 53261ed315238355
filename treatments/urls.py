from django.urls import path

from . import views
from .models import Visit

app_name = "treatments"

P = "patients/<int:patient_pk>/"

urlpatterns = [
    path(f"{P}treatment/", views.patient_treatments, name="patient"),
    path(f"{P}consultations/new/", views.consultation_create, name="consultation_create"),
    path(f"{P}consultations/<int:pk>/", views.consultation_detail, name="consultation"),
    path(f"{P}plans/new/", views.plan_create, name="plan_create"),
    path(f"{P}plans/<int:pk>/", views.plan_detail, name="plan"),
    path(f"{P}plans/<int:pk>/status/", views.plan_status, name="plan_status"),
    path(f"{P}plans/<int:pk>/clear/", views.plan_clear, name="plan_clear"),
    path(f"{P}plans/<int:pk>/chart/", views.chart_create, name="chart_create"),
    path(
        f"{P}plans/<int:pk>/touch-up/",
        views.chart_create,
        {"visit": Visit.TOUCH_UP},
        name="touch_up_create",
    ),
    path(f"{P}plans/<int:pk>/adverse-events/new/", views.adverse_event_create, name="event_create"),
    path(f"{P}charts/<int:pk>/", views.chart_detail, name="chart"),
    path(f"{P}charts/<int:pk>/sign/", views.chart_sign, name="chart_sign"),
    path(f"{P}charts/<int:pk>/cosign/", views.chart_cosign, name="chart_cosign"),
    path(f"{P}charts/<int:pk>/amend/", views.chart_amend, name="chart_amend"),
    path(f"{P}charts/<int:pk>/areas/<int:area_pk>/amend/", views.area_amend, name="area_amend"),
    path(f"{P}adverse-events/<int:pk>/", views.adverse_event_edit, name="event"),
    path(
        f"{P}adverse-events/<int:pk>/follow-ups/",
        views.adverse_event_follow_up,
        name="event_follow_up",
    ),
    path(f"{P}adverse-events/<int:pk>/close/", views.adverse_event_close, name="event_close"),
    path(
        f"{P}adverse-events/<int:pk>/seen/",
        views.adverse_event_acknowledge,
        name="event_acknowledge",
    ),
    path("check-ins/<int:pk>/handled/", views.check_in_handle, name="check_in_handle"),
]
