import pytest
from django.urls import reverse

from goodskin.roles import Role
from tests.factories import PASSWORD, UserFactory

HOMES = {
    Role.FRONT_DESK: "/desk/",
    Role.DOCTOR: "/doctor/",
    Role.PATIENT: "/portal/",
    Role.ADMIN: "/admin/",
}


@pytest.mark.parametrize("role", list(Role))
def test_it_lands_each_role_on_its_own_home(client, users_by_role, role):
    user = users_by_role[role]
    response = client.post(
        reverse("login"), {"username": user.username, "password": PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == HOMES[role]
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("role", "heading"),
    [
        (Role.FRONT_DESK, "Good to see you"),
        (Role.DOCTOR, "Your sessions today"),
        (Role.PATIENT, "not linked to a patient record yet"),
    ],
)
def test_it_shows_each_role_its_home_page(client, users_by_role, role, heading):
    client.force_login(users_by_role[role])
    response = client.get(HOMES[role])
    assert response.status_code == 200
    assert heading in response.content.decode()


def test_it_rejects_a_wrong_password_with_a_clear_message(client, front_desk):
    response = client.post(reverse("login"), {"username": "fiona", "password": "nope"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_it_asks_for_missing_fields_on_the_login_form(client, db):
    response = client.post(reverse("login"), {"username": "", "password": ""})
    assert response.status_code == 200
    assert response.content.decode().count("This field is required.") == 2


def test_it_hashes_passwords_with_argon2(front_desk):
    assert front_desk.password.startswith("argon2")


def test_it_sends_a_logged_in_user_from_the_login_page_to_their_home(client, doctor):
    client.force_login(doctor)
    response = client.get(reverse("login"), follow=True)
    assert response.redirect_chain[-1][0] == HOMES[Role.DOCTOR]


def test_it_logs_out_on_post_and_says_so(client, patient):
    client.force_login(patient)
    response = client.post(reverse("logout"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("login")
    assert "You are logged out." in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_it_tells_a_user_without_a_role_to_ask_the_administrator(client, db):
    client.force_login(UserFactory(username="nobody"))
    response = client.get(reverse("home"))
    assert response.status_code == 403
    assert "has not given your account a role" in response.content.decode()


def test_it_follows_next_after_login(client, front_desk):
    response = client.post(
        reverse("login") + "?next=/accounts/password_change/",
        {"username": "fiona", "password": PASSWORD, "next": "/accounts/password_change/"},
    )
    assert response.url == "/accounts/password_change/"


def test_it_refuses_a_next_url_on_another_site(client, front_desk):
    response = client.post(
        reverse("login"),
        {"username": "fiona", "password": PASSWORD, "next": "https://evil.example/"},
    )
    assert response.url == reverse("home")
