"""The logged-in user is read with the names of their groups (goodskin.auth's get_user): a page
asks for the role without a query of its own, and a change of role shows on the next page."""

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from goodskin.auth import UsernameOrEmailBackend
from goodskin.roles import GROUP_NAMES, Role, role_of
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_the_user_comes_with_their_groups_names_and_role():
    user = UserFactory(role=Role.DOCTOR)
    read = UsernameOrEmailBackend().get_user(user.pk)
    assert read.group_names == [GROUP_NAMES[Role.DOCTOR]]
    with CaptureQueriesContext(connection) as queries:
        assert role_of(read) == Role.DOCTOR
    assert not queries.captured_queries


def test_a_user_without_a_group_or_inactive():
    user = UserFactory()
    assert UsernameOrEmailBackend().get_user(user.pk).group_names == []
    assert role_of(UsernameOrEmailBackend().get_user(user.pk)) is None
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert UsernameOrEmailBackend().get_user(user.pk) is None
    assert UsernameOrEmailBackend().get_user(10**9) is None


def test_a_page_reads_no_groups_of_its_own_and_a_new_role_shows_on_the_next_page(
    client, front_desk
):
    client.force_login(front_desk, backend="goodskin.auth.UsernameOrEmailBackend")
    page = reverse("scheduling:week")
    client.get(page)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(page).status_code == 200
    assert not [q for q in queries.captured_queries if 'FROM "auth_group"' in q["sql"]]
    front_desk.groups.set([Group.objects.get_or_create(name=GROUP_NAMES[Role.PATIENT])[0]])
    assert client.get(page).status_code == 403
