"""Issue 14, point 3: password reset is limited per address and per account, and its mail
goes out through the message outbox, so the page answers the same way, without talking to a
mail server, whether or not the address has an account."""

import re

from django.core import mail
from django.urls import reverse

from goodskin.password_reset import KIND
from messaging import sending
from messaging.models import Message, MessageStatus


def ask(client, email: str, ip: str = "203.0.113.9"):
    return client.post(reverse("password_reset"), {"email": email}, REMOTE_ADDR=ip)


def test_known_and_unknown_addresses_get_the_same_answer_and_no_mail_is_sent_meanwhile(
    client, front_desk
):
    known, unknown = ask(client, front_desk.email), ask(client, "nobody@example.org")
    assert known.status_code == unknown.status_code == 302
    assert known.url == unknown.url == reverse("password_reset_done")
    assert mail.outbox == []  # nothing was sent while the page waited
    (queued,) = Message.objects.filter(kind=KIND)
    assert queued.staff == front_desk and queued.status == MessageStatus.PENDING


def test_the_outbox_sends_the_link_and_keeps_the_text_without_it(client, front_desk):
    ask(client, front_desk.email)
    assert sending.send_batch(10)["sent"] == 1
    (email,) = mail.outbox
    assert email.to == [front_desk.email]
    link = re.search(r"https?://\S+/accounts/reset/\S+", email.body)[0]
    sent = Message.objects.get(kind=KIND)
    assert sent.status == MessageStatus.SENT
    assert link not in sent.body and "/accounts/reset/" in sent.body
    assert "(the one-time link is not kept)" in sent.body


def test_an_account_gets_at_most_three_links_an_hour_and_nobody_can_tell(client, front_desk):
    answers = {ask(client, front_desk.email, ip=f"203.0.113.{n}").status_code for n in range(5)}
    assert answers == {302}
    assert Message.objects.filter(kind=KIND, staff=front_desk).count() == 3


def test_an_address_asking_too_often_is_refused_with_a_clear_page(client, front_desk):
    for _ in range(10):
        assert ask(client, "someone@example.org").status_code == 302
    refused = ask(client, front_desk.email)
    assert refused.status_code == 429
    assert "Too many requests" in refused.content.decode()
    assert not Message.objects.filter(kind=KIND).exists()
    assert ask(client, front_desk.email, ip="192.0.2.80").status_code == 302


def test_a_link_for_an_account_closed_meanwhile_is_not_sent(client, front_desk):
    ask(client, front_desk.email)
    front_desk.is_active = False
    front_desk.save()
    sending.send_batch(10)
    assert mail.outbox == []
    assert Message.objects.get(kind=KIND).status == MessageStatus.CANCELLED


def test_a_request_that_fails_while_queueing_counts_for_nothing(front_desk, monkeypatch):
    """All or nothing: a request whose link could not be queued is not counted against the
    address either (the person tries again and isn't refused for an attempt that did
    nothing)."""
    import pytest

    from goodskin import password_reset
    from goodskin.models import ResetRequest
    from messaging import outbox

    def broken(draft):
        raise RuntimeError("the outbox is unreachable")

    monkeypatch.setattr(outbox, "put", broken)
    with pytest.raises(RuntimeError):
        password_reset.request_reset(email=front_desk.email, ip="203.0.113.9")
    assert not ResetRequest.objects.exists()
