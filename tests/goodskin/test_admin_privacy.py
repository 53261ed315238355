"""The clinic administrator's pages show no patient data (issue 14, point 9): the patient pages
answer the administrator 404, so the Django admin and the merge page must not show a patient's
name, birth date, phone or email either. This walks every admin page as the administrator,
after making a patient with values found nowhere else, and reads every answer."""

from datetime import UTC, date, datetime, timedelta

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.apps import apps
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone

from goodskin.actors import Actor
from goodskin.roles import Role, group_for, role_of
from patients import audit
from patients.models import AuditAction, Patient
from patients.services import merge_patients, update_patient
from scheduling.models import ClosedDay, Location, Room, TimeOff, WorkingHours
from tests.factories import PatientFactory, UserFactory, screen
from tests.treatments.conftest import make_plan

EMAIL = "zephyrine.quillfeather@example.net"
NEEDLES = (
    "Zephyrine",
    "Quillfeather",
    "Zuzanka",  # the preferred name
    "zephyrine.quillfeather",
    "zq.newmail",
    "1957-11-23",
    "11/23/1957",
    "Nov. 23, 1957",
    "November 23, 1957",
    "5559876",
    "555-9876",
    "555 9876",
)
# Parts of the values, to search with: the search box echoes what was typed.
SEARCHES = ("Quill", "zephyr", "1957", "55598", "example.net")


@pytest.fixture
def office(db):
    location = Location.objects.create(name="Pearl District", time_zone="America/Los_Angeles")
    Room.objects.create(location=location, name="Room 1")
    return location


@pytest.fixture
def zephyrine(db, doctor, front_desk, office):
    """A patient with a portal account, screening, a plan, edits, a merge and an invitation
    in the audit trail, and login records under her email."""
    patient = PatientFactory(
        legal_first_name="Zephyrine",
        legal_last_name="Quillfeather",
        preferred_name="Zuzanka",
        date_of_birth=date(1957, 11, 23),
        phone="+15035559876",
        email=EMAIL,
    )
    account = UserFactory(
        username=EMAIL,
        email=EMAIL,
        first_name="Zuzanka",
        last_name="Quillfeather",
        role=Role.PATIENT,
    )
    patient.portal_user = account
    patient.save(update_fields=["portal_user"])
    as_doctor = Actor(user=doctor, role=Role.DOCTOR, ip="127.0.0.1")
    screen(patient, by=doctor, sclerosant_allergy="no", untreated_varicose="no")
    make_plan(patient, doctor, sessions=2)
    update_patient(
        patient_id=patient.pk,
        version=patient.version,
        data={"email": "zq.newmail@example.net"},
        by=as_doctor,
    )
    audit.record(
        actor=Actor(user=front_desk, role=Role.FRONT_DESK),
        patient=patient,
        action=AuditAction.INVITE,
        subject="portal",
        details={"email": EMAIL},
    )
    audit.record(
        actor=Actor(user=account, role=Role.PATIENT, ip="10.0.0.9"),
        patient=patient,
        action=AuditAction.VIEW,
        subject="schedule",
    )
    duplicate = PatientFactory(legal_first_name="Zephyrine", legal_last_name="Quillfeather")
    merge_patients(
        keep_id=patient.pk,
        duplicate_id=duplicate.pk,
        reason="Quillfeather typed twice",
        by=as_doctor,
    )
    WorkingHours.objects.create(
        doctor=doctor, weekday=0, starts="08:00", ends="17:00", location=office
    )
    TimeOff.objects.create(
        doctor=doctor,
        starts_at=timezone.now(),
        ends_at=timezone.now() + timedelta(hours=2),
        reason="Conference",
        created_by=front_desk,
    )
    ClosedDay.objects.create(day=date(2026, 12, 25), location=office, reason="Christmas")
    login_records(EMAIL, "zephyrine.quilfeather@example.net", doctor.username)
    return patient


def login_records(*names: str) -> None:
    when = datetime(2026, 11, 2, 9, tzinfo=UTC)
    for name in names:
        common = {
            "username": name,
            "ip_address": "10.0.0.9",
            "user_agent": "Mail/1.0",
            "http_accept": "text/html",
            "path_info": "/accounts/login/",
            "attempt_time": when,
        }
        AccessAttempt.objects.create(
            **common, get_data="", post_data=f"username={name}", failures_since_start=2
        )
        AccessLog.objects.create(**common)
        AccessFailureLog.objects.create(**common, locked_out=False)


def admin_pages() -> list[tuple[str, str, dict]]:
    """(method, path, data) of every admin page: index, each app, and for each model its list
    (plain, searched, as a popup), add page, and the change, history and delete pages of each
    row, the delete-selected confirmation, and the user autocomplete of every relation."""
    pages = [("get", reverse("admin:index"), {})]
    for model in admin.site._registry:
        meta = model._meta
        pages.append(("get", reverse("admin:app_list", args=[meta.app_label]), {}))
        changelist = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
        pages += [
            ("get", changelist, {}),
            ("get", changelist, {"_popup": "1"}),
            *[("get", changelist, {"q": term}) for term in SEARCHES],
            ("get", reverse(f"admin:{meta.app_label}_{meta.model_name}_add"), {}),
        ]
        pks = list(model._default_manager.values_list("pk", flat=True)[:30])
        pages.append(("post", changelist, {"action": "delete_selected", "_selected_action": pks}))
        for pk in pks:
            for view in ("change", "history", "delete"):
                name = f"admin:{meta.app_label}_{meta.model_name}_{view}"
                pages.append(("get", reverse(name, args=[pk]), {}))
        pages += [("get", f"/admin/auth/user/{pk}/password/", {}) for pk in user_pks(model)]
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if field.is_relation and field.concrete and field.related_model in admin.site._registry:
                for term in ("", *SEARCHES):
                    query = {
                        "app_label": model._meta.app_label,
                        "model_name": model._meta.model_name,
                        "field_name": field.name,
                        "term": term,
                    }
                    pages.append(("get", reverse("admin:autocomplete"), query))
    patient_type = ContentType.objects.get_for_model(Patient)
    for pk in Patient.objects.values_list("pk", flat=True):
        pages.append(("get", f"/admin/r/{patient_type.pk}/{pk}/", {}))
    return pages


def user_pks(model) -> list[int]:
    from django.contrib.auth import get_user_model

    if model is not get_user_model():
        return []
    return list(model.objects.values_list("pk", flat=True))


def leaks(text: str) -> list[str]:
    lowered = text.lower()
    return [needle for needle in NEEDLES if needle.lower() in lowered]


def test_the_administrator_sees_no_patient_data_anywhere_in_the_admin(
    client, clinic_admin, zephyrine
):
    client.force_login(clinic_admin)
    assert role_of(clinic_admin) == Role.ADMIN
    found, opened, answered_json = [], 0, 0
    for method, path, data in admin_pages():
        response = getattr(client, method)(path, data, follow=True)
        assert response.status_code != 500, (path, data)
        opened += response.status_code == 200
        answered_json += response["Content-Type"] == "application/json"
        if leaked := leaks(response.content.decode()):
            found.append((path, data, leaked))
    assert found == []
    assert opened > 100  # the walk reached the pages, not only refusals
    assert answered_json > 0  # and the autocomplete of users answered


def test_the_merge_page_shows_the_administrator_no_names(client, clinic_admin, zephyrine):
    other = PatientFactory(legal_first_name="Zephyrine", legal_last_name="Quillfeather")
    client.force_login(clinic_admin)
    path = reverse("patients:merge", args=[zephyrine.pk])
    for response in (
        client.get(path, {"duplicate": other.pk}),
        client.post(path, {"duplicate_id": other.pk, "reason": "Same"}),
    ):
        assert response.status_code in (403, 404)
        assert leaks(response.content.decode()) == []


def test_the_administrator_still_manages_staff_accounts_and_their_login_records(
    client, clinic_admin, doctor, zephyrine
):
    client.force_login(clinic_admin)
    users = client.get(reverse("admin:auth_user_changelist")).content.decode()
    assert doctor.username in users
    page = client.get(reverse("admin:auth_user_change", args=[doctor.pk]))
    assert page.status_code == 200 and doctor.last_name in page.content.decode()
    attempts = client.get(reverse("admin:axes_accessattempt_changelist"))
    assert doctor.username in attempts.content.decode()
    assert "(not a staff account)" in attempts.content.decode()
    staff_attempt = AccessAttempt.objects.get(username=doctor.username)
    assert (
        client.get(reverse("admin:axes_accessattempt_change", args=[staff_attempt.pk])).status_code
        == 200
    )
    login_records(doctor.email.upper())  # a staff member who typed their email
    assert (
        doctor.email.upper()
        in client.get(reverse("admin:axes_accesslog_changelist")).content.decode()
    )
    # Lifting a pause: the administrator deletes the staff member's attempts.
    client.post(
        reverse("admin:axes_accessattempt_delete", args=[staff_attempt.pk]), {"post": "yes"}
    )
    assert not AccessAttempt.objects.filter(username=doctor.username).exists()


def test_the_staff_menus_of_the_admin_offer_no_patient_account(client, clinic_admin, zephyrine):
    client.force_login(clinic_admin)
    for name in ("admin:scheduling_timeoff_add", "admin:scheduling_workinghours_add"):
        form = client.get(reverse(name)).context["adminform"].form
        offered = set(form.fields["doctor"].queryset.values_list("username", flat=True))
        assert EMAIL not in offered and "dr.lee" in offered


def test_the_audit_list_still_finds_a_staff_members_entries(client, clinic_admin, zephyrine):
    client.force_login(clinic_admin)
    changelist = reverse("admin:patients_auditentry_changelist")
    by_doctor = client.get(changelist, {"q": "dr.lee"}).context["cl"]
    assert by_doctor.result_count >= 1
    assert {e.user.username for e in by_doctor.result_list} == {"dr.lee"}
    by_patient = client.get(changelist, {"q": EMAIL}).context["cl"]
    assert by_patient.result_count == 0


def test_a_patient_account_is_not_a_staff_account(db, zephyrine):
    from goodskin.roles import patient_accounts, staff_accounts

    doctor_and_patient = UserFactory(username="dr.also.patient", role=Role.DOCTOR)
    doctor_and_patient.groups.add(group_for(Role.PATIENT))
    assert set(patient_accounts().values_list("username", flat=True)) == {EMAIL}
    assert staff_accounts().filter(username="dr.also.patient").exists()
