"""The Content-Security-Policy: every page says it, and no page template needs an exception
(the browser tests also fail on any violation the browser reports)."""

import re
from pathlib import Path

from django.urls import reverse

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
# Emails are read in mail programs, where the CSP does not apply and inline styles are the norm.
EMAILS = ("scheduling/messages/", "patients/email/", "registration/password_reset_email")


def directives(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())


def test_it_sends_a_policy_that_allows_only_this_site_and_nothing_inline(client, front_desk):
    client.force_login(front_desk)
    for url in (reverse("login"), reverse("frontdesk_home")):
        client.logout() if url == reverse("login") else client.force_login(front_desk)
        policy = directives(client.get(url))
        assert policy["script-src"] == "'self'"
        assert policy["style-src"] == "'self'"
        assert policy["default-src"] == "'self'"
        assert policy["frame-ancestors"] == "'none'"
        assert "unsafe" not in " ".join(policy.values())


def test_no_page_template_has_an_inline_script_or_style():
    offenders = []
    for path in TEMPLATES.rglob("*.html"):
        name = path.relative_to(TEMPLATES).as_posix()
        if name.startswith(EMAILS):
            continue
        text = path.read_text()
        if re.search(r"\sstyle=|<style|<script(?![^>]*\ssrc=)|\son[a-z]+=", text):
            offenders.append(name)
    assert offenders == []
