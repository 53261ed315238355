"""Every page a patient sees lives in the portal app, at the address it always had: links in
sent emails and in calendar apps point at them."""

import ast
import re
from pathlib import Path

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, resolve

ROOT = Path(__file__).resolve().parents[2]
# The apps below the portal: none of them may serve a page to the patient role.
LOWER_APPS = ("patients", "treatments", "scheduling")
# Addresses already in patients' inboxes and calendars, with the page each must open.
PUBLISHED = {
    "/portal/": "portal:schedule",
    "/portal/appointments/1/": "portal:appointment",
    "/portal/appointments/1.ics": "portal:appointment_ics",
    "/portal/calendar/": "portal:calendar",
    "/portal/calendar/some-token.ics": "portal:feed",
    "/portal/preferences/": "portal:preferences",
    "/portal/my-details/": "portal:my_record",
    "/portal/welcome/some-token/": "portal:open_account",
    "/portal/treatment/": "portal:treatment",
    "/portal/treatment/plans/1/": "portal:plan",
}


def portal_routes() -> list[str]:
    """A sample path for every URL pattern whose route starts with portal/."""
    found = []

    def walk(patterns, prefix):
        for p in patterns:
            route = prefix + str(p.pattern)
            if isinstance(p, URLResolver):
                walk(p.url_patterns, route)
            elif isinstance(p, URLPattern) and route.startswith("portal/"):
                found.append("/" + re.sub(r"<(?:\w+:)?\w+>", "1", route))

    walk(get_resolver().url_patterns, "")
    return found


def in_portal(view) -> bool:
    return view.__module__ == "portal" or view.__module__.startswith("portal.")


def test_it_finds_the_portal_routes():
    assert set(PUBLISHED.values()) <= {resolve(path).view_name for path in portal_routes()}


@pytest.mark.parametrize("path", portal_routes())
def test_every_portal_address_opens_a_view_of_the_portal_app(path):
    match = resolve(path)
    assert in_portal(match.func), (path, match.func.__module__)
    assert match.namespace == "portal", path


@pytest.mark.parametrize(("path", "name"), PUBLISHED.items())
def test_the_published_addresses_still_open_the_same_pages(path, name):
    match = resolve(path)
    assert match.view_name == name
    assert in_portal(match.func)


def _is_patient_decorator(node: ast.expr) -> bool:
    """`patient_only`, or `role_required(..., Role.PATIENT, ...)`."""
    if isinstance(node, ast.Name):
        return node.id == "patient_only"
    if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "role_required":
        return any(isinstance(a, ast.Attribute) and a.attr == "PATIENT" for a in node.args)
    return False


def patient_views(path: Path) -> list[str]:
    """Functions decorated for the patient role, and patient-role decorators made, in a file."""
    where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            if any(_is_patient_decorator(d) for d in node.decorator_list):
                found.append(f"{where}:{node.lineno} {node.name}")
        elif isinstance(node, ast.Assign) and _is_patient_decorator(node.value):
            found.append(f"{where}:{node.lineno} a patient-role decorator")
    return found


def lower_app_modules() -> list[Path]:
    return sorted(
        path
        for app in LOWER_APPS
        for path in (ROOT / app).rglob("*.py")
        if "migrations" not in path.parts
    )


def test_it_reads_the_lower_apps_sources():
    names = {path.relative_to(ROOT).as_posix() for path in lower_app_modules()}
    assert {"patients/views.py", "treatments/views.py", "scheduling/views.py"} <= names


def test_it_would_notice_a_patient_view_in_a_lower_app(tmp_path):
    stray = tmp_path / "views.py"
    stray.write_text(
        "@role_required(Role.PATIENT)\ndef mine(request): ...\n\n"
        "@patient_only\ndef also_mine(request): ...\n"
    )
    assert len(patient_views(stray)) == 2


def test_no_lower_app_defines_a_view_for_the_patient_role():
    found = [hit for path in lower_app_modules() for hit in patient_views(path)]
    assert found == []
