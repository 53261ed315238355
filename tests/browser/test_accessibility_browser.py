"""Issue 18, point 3: axe-core finds no serious or critical violation on any page of any role.

The walk takes every named address of the URL configuration (as tests/goodskin/test_access.py
does): one listed in PAGES is opened by the roles named there with the ids of a clinic with
something on every page (tests/browser/a11y_world.py); one with no parameter that nobody listed
(a colleague's new section) is opened as every role, and checked wherever it answers with a
page; one that needs ids fails until it is listed in PAGES or NOT_PAGES (why it is no page to
read). The Django admin's list and add pages are walked too. On each page axe-core runs (the
copy axe-playwright-python ships, injected by Playwright: nothing from a CDN), every control is
focused to check that its focus shows, nothing drawn with a hand pointer is out of the
keyboard's reach, and every field's edge is measured (WCAG 1.4.11, which axe leaves out). The
test fails listing each finding with the page and the element."""

import re
from collections.abc import Callable
from datetime import date, time
from urllib.parse import urlsplit

import pytest
import time_machine
from axe_playwright_python.base import AXE_FILE_PATH, AXE_SCRIPT
from django.conf import settings
from django.test import Client
from django.urls import NoReverseMatch, reverse
from playwright.sync_api import Error as PlaywrightError

from goodskin.roles import Role
from scheduling.clock import instant, zone
from tests.browser import a11y_world
from tests.browser.conftest import ARTIFACTS
from tests.goodskin.test_access import app_urls

DESK, DOCTOR, ADMIN, PATIENT, ANYONE = (
    Role.FRONT_DESK,
    Role.DOCTOR,
    Role.ADMIN,
    Role.PATIENT,
    "anyone",
)
STAFF = (DESK, DOCTOR)
# A Wednesday morning in Oregon: the day and week views have visits in every state.
NOW = instant(date(2026, 12, 2), time(10, 15), zone("America/Los_Angeles"))
SERIOUS = {"serious", "critical"}
# Staff work at a desk; patients and the public mostly on a phone.
LAPTOP, PHONE = {"width": 1280, "height": 900}, {"width": 375, "height": 800}
ON_A_PHONE = {PATIENT, ANYONE}
# Pages whose look the colour changes touch: saved as test-artifacts/a11y-<name>-<role>.png.
SCREENSHOTS = {
    ("frontdesk_home", DESK),
    ("doctor_home", DOCTOR),
    ("scheduling:day", DESK),
    ("scheduling:week", DESK),
    ("patients:detail", DESK),
    ("patients:screening", DOCTOR),
    ("treatments:plan", DOCTOR),
    ("portal:schedule", PATIENT),
    ("scheduling:slots", DESK),
    ("messaging:patient", DESK),
}


def _page(name: str, *ids: str) -> Callable:
    return lambda world: reverse(name, args=[world.ids[i] for i in ids])


def _token(name: str) -> Callable:
    return lambda world: world.tokens[name]


# URL name: (the roles that open it, its address in the world).
PAGES: dict[str, tuple[tuple, Callable]] = {
    "home": ((ADMIN,), _page("home")),
    "frontdesk_home": ((DESK,), _page("frontdesk_home")),
    "doctor_home": ((DOCTOR,), _page("doctor_home")),
    "patients:list": (STAFF, lambda w: reverse("patients:list") + "?q=garcia"),
    "patients:create": ((DESK,), _page("patients:create")),
    "patients:detail": (STAFF, _page("patients:detail", "patient")),
    "patients:edit": ((DESK,), _page("patients:edit", "patient")),
    "patients:screening": (STAFF, _page("patients:screening", "patient")),
    "patients:screening_history": ((DOCTOR,), _page("patients:screening_history", "patient")),
    "patients:merge": ((DOCTOR,), _page("patients:merge", "duplicate")),
    "messaging:patient": ((DESK,), _page("messaging:patient", "patient")),
    "treatments:patient": ((DOCTOR,), _page("treatments:patient", "patient")),
    "treatments:consultation_create": (
        (DOCTOR,),
        _page("treatments:consultation_create", "patient"),
    ),
    "treatments:consultation": (
        (DOCTOR,),
        _page("treatments:consultation", "patient", "consultation"),
    ),
    "treatments:plan_create": ((DOCTOR,), _page("treatments:plan_create", "patient")),
    "treatments:plan": (STAFF, _page("treatments:plan", "patient", "plan")),
    "treatments:chart_create": ((DOCTOR,), _page("treatments:chart_create", "patient", "plan")),
    "treatments:touch_up_create": (
        (DOCTOR,),
        _page("treatments:touch_up_create", "patient", "plan"),
    ),
    "treatments:event_create": ((DOCTOR,), _page("treatments:event_create", "patient", "plan")),
    "treatments:chart": ((DOCTOR,), _page("treatments:chart", "patient", "chart")),
    "treatments:chart_amend": ((DOCTOR,), _page("treatments:chart_amend", "patient", "chart")),
    "treatments:area_amend": (
        (DOCTOR,),
        _page("treatments:area_amend", "patient", "chart", "area"),
    ),
    "treatments:event": ((DOCTOR,), _page("treatments:event", "event_patient", "event")),
    "scheduling:day": (STAFF, _page("scheduling:day")),
    "scheduling:week": (STAFF, _page("scheduling:week")),
    "scheduling:my_day": ((DOCTOR,), _page("scheduling:my_day")),
    "scheduling:slots": (
        (DESK,),
        lambda w: reverse("scheduling:slots") + f"?patient={w.ids['patient']}",
    ),
    "scheduling:time_off": ((DESK,), _page("scheduling:time_off")),
    "scheduling:waitlist": ((DESK,), _page("scheduling:waitlist")),
    "scheduling:waitlist_add": ((DESK,), _page("scheduling:waitlist_add", "patient")),
    "scheduling:online_requests": ((DESK,), _page("scheduling:online_requests")),
    # One report here; tests/browser/test_reports_browser.py runs axe on every one.
    "reports:report": ((DOCTOR, ADMIN), lambda world: reverse("reports:report", args=["sessions"])),
    "scheduling:offices": ((ADMIN,), _page("scheduling:offices")),
    "scheduling:office_new": ((ADMIN,), _page("scheduling:office_new")),
    "scheduling:office": ((ADMIN,), _page("scheduling:office", "office")),
    "scheduling:hours_edit": ((ADMIN,), _page("scheduling:hours_edit", "office", "hours")),
    "scheduling:book": ((DESK,), _page("scheduling:book", "patient")),
    "scheduling:book_series": ((DESK,), _page("scheduling:book_series", "plan")),
    "scheduling:appointment": (STAFF, _page("scheduling:appointment", "appointment")),
    "scheduling:aftercare_sheet": ((DESK,), _page("scheduling:aftercare_sheet", "appointment")),
    "scheduling:plan_summary": (STAFF, _page("scheduling:plan_summary", "patient", "plan")),
    "scheduling:move": ((DESK,), _page("scheduling:move", "appointment")),
    "scheduling:cancel": ((DESK,), _page("scheduling:cancel", "appointment")),
    "scheduling:rescreen": ((DESK,), _page("scheduling:rescreen", "checked_in")),
    "portal:schedule": ((PATIENT,), _page("portal:schedule")),
    "portal:appointment": ((PATIENT,), _page("portal:appointment", "appointment")),
    "portal:cancel": ((PATIENT,), _page("portal:cancel", "appointment")),
    "portal:move": ((PATIENT,), _page("portal:move", "appointment")),
    "portal:book": ((ANYONE,), _page("portal:book")),
    "portal:book_sent": ((ANYONE,), _page("portal:book_sent")),
    "portal:book_confirm": ((ANYONE,), _token("portal:book_confirm")),
    "portal:book_next": ((PATIENT,), _page("portal:book_next")),
    "portal:screening": ((PATIENT,), _page("portal:screening")),
    "portal:calendar": ((PATIENT,), _page("portal:calendar")),
    "portal:preferences": ((PATIENT,), _page("portal:preferences")),
    "portal:my_record": ((PATIENT,), _page("portal:my_record")),
    "portal:open_account": ((ANYONE,), _token("portal:open_account")),
    "portal:treatment": ((PATIENT,), _page("portal:treatment")),
    "portal:plan": ((PATIENT,), _page("portal:plan", "plan")),
    "portal:plan_summary": ((PATIENT,), _page("portal:plan_summary", "plan")),
    "portal:aftercare_sheet": ((PATIENT,), _page("portal:aftercare_sheet", "appointment")),
    "portal:check_in": ((ANYONE,), _token("portal:check_in")),
    "portal:waitlist": ((PATIENT,), _page("portal:waitlist")),
    "portal:waitlist_offer": ((ANYONE,), _token("portal:waitlist_offer")),
    "messaging:unsubscribe": ((ANYONE,), _token("messaging:unsubscribe")),
    "login": ((ANYONE,), _page("login")),
    "password_reset": ((ANYONE,), _page("password_reset")),
    "password_reset_done": ((ANYONE,), _page("password_reset_done")),
    "password_reset_confirm": ((ANYONE,), _token("password_reset_confirm")),
    "password_reset_complete": ((ANYONE,), _page("password_reset_complete")),
    "password_change": ((DESK, PATIENT), _page("password_change")),
    "password_change_done": ((DESK,), _page("password_change_done")),
    "two_factor_manage": ((DOCTOR, PATIENT), _page("two_factor_manage")),
    "two_factor_setup": ((DOCTOR,), _page("two_factor_setup")),
}
# Addresses that are no page to read: a file for another program, or the target of a form
# that takes only a POST (its answer is a redirect to a page walked here).
NOT_PAGES = {
    "healthz": "a load balancer's check",
    "reports:csv": "a CSV file",
    "patients:invite": "a POST from the record",
    "patients:review_answers": "a POST from the screening page",
    "keep_alive": "the session script's POST",
    "set_language": "the language chooser's POST",
    "logout": "a POST",
    "messaging:sms_status": "the SMS provider's signed POST",
    "messaging:act": "a POST from the patient's messages page",
    "patients:export": "a JSON file",
    "patients:export_pdf": "a PDF",
    "patients:reset_two_factor": "a POST from the record",
    "treatments:plan_status": "a POST from the plan",
    "treatments:plan_clear": "a POST from the plan",
    "treatments:chart_sign": "a POST from the chart",
    "treatments:chart_cosign": "a POST from the chart",
    "treatments:event_follow_up": "a POST from the adverse event",
    "treatments:event_close": "a POST from the adverse event",
    "treatments:event_acknowledge": "a POST from the doctor's home",
    "treatments:check_in_handle": "a POST from the doctor's home",
    "scheduling:time_off_lift": "a POST from the time-off page",
    "scheduling:waitlist_remove": "a POST from the waitlist",
    "scheduling:check_in_called": "a POST from the desk's home",
    "scheduling:room_add": "a POST from the office",
    "scheduling:hours_add": "a POST from the office",
    "scheduling:room_change": "a POST from the office",
    "scheduling:status": "a POST from the day view",
    "portal:undo_cancel": "a POST from the appointment",
    "portal:leave_waitlist": "a POST from the waitlist",
    "portal:appointment_ics": "a calendar file",
    "portal:feed": "a calendar feed",
    "portal:my_record_json": "a JSON file",
    "portal:my_record_pdf": "a PDF",
    "portal:aftercare_sheet_pdf": "a PDF",
    "portal:plan_summary_pdf": "a PDF",
    "scheduling:aftercare_sheet_pdf": "a PDF",
    "scheduling:plan_summary_pdf": "a PDF",
    "two_factor": "the second step of a login, walked in test_two_factor_browser.py",
    "two_factor_codes": "shown once after setting up, walked in test_two_factor_browser.py",
    "two_factor_new_codes": "a POST from the two-step login page",
}


# Forms sent back with errors (the error texts and red fields have colours of their own):
# after its page, each of these is submitted as it stands and checked again.
SENT_BACK = {
    ("login", ANYONE),
    ("portal:book", ANYONE),
    ("patients:create", DESK),
    ("password_change", DESK),
    ("scheduling:office_new", ADMIN),
}


# Django's own admin widgets, not the clinic's templates: findings in them on the admin's
# pages are left to Django (each rule, and a pattern that every element it names must match).
DJANGO_ADMIN_OWN = {
    # filter_horizontal's search icons (SelectFilter2.js) carry an aria-label on a span.
    "aria-prohibited-attr": re.compile(r"\.help-tooltip"),
    # list_editable's inputs in a list, and the date and time halves of a SplitDateTime,
    # are labelled by their column heading or their field's label only.
    "label": re.compile(r"^#id_(form-\d+-\w+|\w+_[01])$"),
}


def left_to_django(path: str, violation: dict) -> bool:
    pattern = DJANGO_ADMIN_OWN.get(violation["id"])
    return (
        path.startswith("/admin/")
        and pattern is not None
        and all(pattern.search(" ".join(node["target"])) for node in violation["nodes"])
    )


def admin_pages(administrator) -> list[str]:
    """The Django admin's list and add pages of every model registered there (its index is
    the administrator's home, walked above)."""
    from django.contrib import admin
    from django.test import RequestFactory

    request = RequestFactory().get("/admin/")
    request.user = administrator
    pages = []
    for model, model_admin in admin.site._registry.items():
        meta = model._meta
        pages.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"))
        if model_admin.has_add_permission(request):
            pages.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_add"))
    return pages


def unlisted() -> tuple[set[str], set[str]]:
    """Addresses in neither PAGES nor NOT_PAGES: (those with no parameter, which the walk opens
    by itself as every role, the section a colleague adds included; those that need ids)."""
    names = {name for name, _path in app_urls()} - set(PAGES) - set(NOT_PAGES)
    plain, with_ids = set(), set()
    for name in names:
        try:
            reverse(name)
            plain.add(name)
        except NoReverseMatch:
            with_ids.add(name)
    return plain, with_ids


def test_every_address_is_walked_or_said_to_be_no_page():
    _plain, with_ids = unlisted()
    assert not with_ids, f"add these to PAGES (or NOT_PAGES) in this file: {sorted(with_ids)}"


# The main form, empty fields and all (the browser's own checks off: the server's answer is
# the page to check), with its own submit button, so that the browser sends what it adds.
SUBMIT = """() => {
  const form = [...document.querySelectorAll('main form')].find(f => f.method === 'post');
  form.noValidate = true;
  form.requestSubmit(form.querySelector('[type=submit]'));
}"""


# Every control a keyboard reaches, focused in turn: those that show no outline, ring or (an
# area of the leg map) stroke while focused. Radios and checkboxes drawn as buttons show it
# on their label. Returns a selector-like name for each.
UNSEEN_FOCUS = """() => {
  const reachable = 'a[href], button, input:not([type=hidden]), select, textarea, summary, '
    + '[tabindex]:not([tabindex="-1"])';
  const unseen = [];
  for (const el of document.querySelectorAll(reachable)) {
    if (el.disabled || !el.checkVisibility({visibilityProperty: true})
        && !el.matches('.btn-check, .visually-hidden-focusable')) continue;
    el.focus({focusVisible: true});
    if (document.activeElement !== el) continue;
    const shown = el.matches('.btn-check') ? el.nextElementSibling : el;
    const style = getComputedStyle(shown);
    const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 1;
    const ring = style.boxShadow && style.boxShadow !== 'none';
    const stroke = el instanceof SVGElement && parseFloat(style.strokeWidth) >= 3;
    if (!(outline || ring || stroke)) {
      const classes = typeof el.className === 'string' ? el.className.trim() : '';
      const href = el.getAttribute('href');
      unseen.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
        + (classes ? '.' + classes.split(/\\s+/).join('.') : '')
        + (href ? '[href="' + href + '"]' : ''));
    }
  }
  document.activeElement && document.activeElement.blur();
  return unseen;
}"""


# WCAG 1.4.11 (AA), which axe does not measure: the edge (or the fill) of each text box,
# drop-down, checkbox and radio at 3:1 or more against what is around it (the nearest ancestor
# with a background of its own). Returns the fields that fall short, with the ratio.
FAINT_EDGES = """() => {
  const rgb = (c) => c.match(/[\\d.]+/g).map(Number);
  const luminance = ([r, g, b]) => [r, g, b].map((v) => {
    v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  }).reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
  const ratio = (a, b) => {
    const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
  };
  const around = (el) => {
    for (let up = el.parentElement; up; up = up.parentElement) {
      const colour = rgb(getComputedStyle(up).backgroundColor);
      if (colour.length < 4 || colour[3] > 0) return colour.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const faint = [];
  for (const el of document.querySelectorAll('.form-control, .form-select, .form-check-input')) {
    // A checked box is filled, and the focused field has its focus ring instead.
    if (!el.checkVisibility() || el.matches(':checked') || el === document.activeElement) continue;
    // The edge, or the field's own fill where it stands out (a white box on the teal bar).
    const style = getComputedStyle(el), ground = around(el), fill = rgb(style.backgroundColor);
    const edge = Math.max(ratio(rgb(style.borderTopColor).slice(0, 3), ground),
      fill.length < 4 || fill[3] > 0 ? ratio(fill.slice(0, 3), ground) : 0);
    const name = el.id ? '#' + el.id : el.name || el.className;
    if (edge < 3) faint.push(name + ' ' + edge.toFixed(2));
  }
  return faint;
}"""


# What the mouse can use and the keyboard cannot: an element drawn with a hand pointer that
# is not a control, a label, or inside one (a clickable area needs tabindex, a role and keys).
MOUSE_ONLY = """() => {
  const control = 'a[href], button, input, select, textarea, summary, label, '
    + '[tabindex]:not([tabindex="-1"])';
  const found = [];
  for (const el of document.body.querySelectorAll('*')) {
    if (getComputedStyle(el).cursor !== 'pointer' || el.closest(control)) continue;
    if (el.parentElement && getComputedStyle(el.parentElement).cursor === 'pointer') continue;
    const classes = typeof el.className === 'string' ? el.className.trim() : '';
    found.push(el.tagName.toLowerCase() + (classes ? '.' + classes.split(/\\s+/).join('.') : ''));
  }
  return found;
}"""


AXE_OPTIONS = {"resultTypes": ["violations"]}  # as axe-playwright-python's run asks


def check(page, label: str) -> list[str]:
    """axe on the page as it stands, what is folded away unfolded (the free times behind
    "more", for example), and the focus shown on every control."""
    page.wait_for_load_state("load")
    page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
    # Before the focus sweep: an edge fades from its focus colour for a moment after a blur.
    faint = [] if urlsplit(page.url).path.startswith("/admin/") else page.evaluate(FAINT_EDGES)
    found = [f"{label}: the edge of a field under 3:1 at {', '.join(faint)}"] if faint else []
    unseen = [] if urlsplit(page.url).path.startswith("/admin/") else page.evaluate(UNSEEN_FOCUS)
    found += [f"{label}: no visible focus on {', '.join(unseen)}"] if unseen else []
    mouse = [] if urlsplit(page.url).path.startswith("/admin/") else page.evaluate(MOUSE_ONLY)
    found += [f"{label}: for the mouse only: {', '.join(mouse)}"] if mouse else []
    path = urlsplit(page.url).path
    # axe-core is in the page already where logged_in made the context (an init script: not
    # half a megabyte of script sent over for each page); elsewhere it is put in now.
    if not page.evaluate("() => typeof axe !== 'undefined'"):
        page.evaluate(AXE_SCRIPT)
    violations = page.evaluate("options => axe.run(document, options)", AXE_OPTIONS)["violations"]
    return found + describe(label, [v for v in violations if not left_to_django(path, v)])


def describe(label: str, violations: list[dict]) -> list[str]:
    """One line a serious violation: the page, the rule, and each element's selector (with
    the colours axe measured, for contrast)."""
    return [
        f"{label}: {v['id']} ({v['impact']}) {v['help']} at "
        + ", ".join(where(node) for node in v["nodes"])
        for v in violations
        if v["impact"] in SERIOUS
    ]


def where(node: dict) -> str:
    selector = " ".join(node["target"])
    for check in node["any"]:
        data = check.get("data") or {}
        if isinstance(data, dict) and "contrastRatio" in data:
            colours = f"{data.get('fgColor')} on {data.get('bgColor')}: {data['contrastRatio']}"
            return f"{selector} [{colours}, {data.get('messageKey') or 'measured'}]"
    return selector


@pytest.fixture
def world(transactional_db):
    with time_machine.travel(NOW, tick=True):
        yield a11y_world.build()


def logged_in(browser, live_server, user, viewport=LAPTOP):
    """A browser context of its own per role, with a session made by Django's test client
    (no login page to go through for each role: that journey has its tests)."""
    context = browser.new_context(viewport=viewport)
    context.add_init_script(path=AXE_FILE_PATH)
    if user is not None:
        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
        context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
        )
    return context


def pages_by_role(world) -> dict[str, list[tuple[str, str, bool]]]:
    """{role: [(name, path, listed)]}: the app's pages, then the Django admin's for the
    administrator, then each unlisted page with no parameter for every role (not `listed`:
    a role it refuses or sends elsewhere, or a file, is passed over)."""
    by_role: dict[str, list[tuple[str, str, bool]]] = {}
    names = {name for name, _path in app_urls()}
    for name, (roles, address) in PAGES.items():
        # A page listed ahead of the branch that adds it (the printouts, issue 18 point 1)
        # waits for it; a misspelt name leaves the real one unlisted, which fails above.
        for role in roles if name in names else ():
            by_role.setdefault(role, []).append((name, address(world), True))
    by_role[ADMIN] += [("admin", path, True) for path in admin_pages(world.users[ADMIN])]
    plain, _with_ids = unlisted()
    for name in sorted(plain):
        for role in (DESK, DOCTOR, ADMIN, PATIENT, ANYONE):
            by_role[role].append((name, reverse(name), False))
    return by_role


def test_axe_finds_no_serious_violation_on_any_page_of_any_role(browser, live_server, world):
    ARTIFACTS.mkdir(exist_ok=True)
    found, unopened, refused = [], [], []
    walked_by_itself = unlisted()[0]  # left here: no role opens it (a file? list it)
    for role, pages in pages_by_role(world).items():
        viewport = PHONE if role in ON_A_PHONE else LAPTOP
        context = logged_in(browser, live_server, world.users.get(role), viewport)
        page = context.new_page()
        # The clinic's pages break no Content-Security-Policy rule (the admin's own scripts
        # set inline styles, which the policy refuses: Django's, left out here).
        page.on(
            "console",
            lambda message, page=page: (
                refused.append(f"{page.url}: {message.text}")
                if message.type == "error"
                and "Content Security Policy" in message.text
                and not urlsplit(page.url).path.startswith("/admin/")
                else None
            ),
        )
        for name, path, listed in pages:
            label = f"{name} {path} as {role}"
            try:
                response = page.goto(live_server.url + path)
            except PlaywrightError as error:  # a download, for example
                if listed:
                    unopened.append(f"{label}: {error.message.splitlines()[0]}")
                continue
            opened = response is not None and response.status == 200
            if not listed and (
                not opened
                or response.request.redirected_from is not None
                or not response.headers.get("content-type", "").startswith("text/html")
            ):
                continue  # not this role's page (refused, or sent elsewhere), or not a page
            if not opened:
                unopened.append(f"{label}: {response and response.status}")
                continue
            walked_by_itself.discard(name)
            if (name, role) in SCREENSHOTS:
                slug = name.replace(":", "-").replace("_", "-")
                page.screenshot(path=ARTIFACTS / f"a11y-{slug}-{role}.png", full_page=True)
            found += check(page, label)
            if (name, role) in SENT_BACK:
                with page.expect_navigation():
                    page.evaluate(SUBMIT)
                found += check(page, f"{label}, sent back")
        context.close()
    assert not unopened, unopened
    assert not walked_by_itself, f"no role opens these: list them: {sorted(walked_by_itself)}"
    assert not found, "\n".join(found)
    assert not refused, refused
