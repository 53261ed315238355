from django.urls import path

from . import views

app_name = "patients"

urlpatterns = [
    path("patients/", views.patient_list, name="list"),
    path("patients/new/", views.patient_create, name="create"),
    path("patients/<int:pk>/", views.patient_detail, name="detail"),
    path("patients/<int:pk>/edit/", views.patient_edit, name="edit"),
    path("patients/<int:pk>/screening/", views.screening_edit, name="screening"),
    path("patients/<int:pk>/screening/review/", views.review_answers, name="review_answers"),
    path("patients/<int:pk>/screening/history/", views.screening_history, name="screening_history"),
    path("patients/<int:pk>/merge/", views.patient_merge, name="merge"),
    path("patients/<int:pk>/invite/", views.patient_invite, name="invite"),
    path(
        "patients/<int:pk>/two-factor/reset/",
        views.patient_reset_two_factor,
        name="reset_two_factor",
    ),
    path("patients/<int:pk>/export/", views.patient_export, name="export"),
    path("patients/<int:pk>/export/pdf/", views.patient_export_pdf, name="export_pdf"),
]
