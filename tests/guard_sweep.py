#!/usr/bin/env python
"""Take each guard out in turn and run the tests: every guard must make some test fail.

A guard is a `transaction.atomic` (decorator, `with` block or returned context), a row lock
(`locked(...)`, `select_for_update(...)`) or a `skip_locked=True` in the apps' code (not in
migrations). For each one this writes the module without it, runs the test files given
(the committing guard tests by default), stops at the first failure, and puts the module back.
It prints one line per guard and exits 1 if a guard left every test green.

Usage: .venv/bin/python tests/guard_sweep.py [--only scheduling] [-- extra pytest args]
Stop it with Ctrl-C (it puts the module back); never with kill -9 while a module is changed.
Needs the test environment (DATABASE_URL, REDIS_URL) as `make test` sets it.
"""

import argparse
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ("goodskin", "patients", "messaging", "treatments", "scheduling", "portal")
TESTS = [
    "tests/patients/test_guards.py",
    "tests/messaging/test_guards.py",
    "tests/treatments/test_guards.py",
    "tests/treatments/test_alert_guards.py",
    "tests/treatments/test_signing.py",
    "tests/treatments/test_adverse_event_follow_up.py",
    "tests/scheduling/test_guards.py",
    "tests/scheduling/test_double_booking.py",
    "tests/scheduling/test_views_concurrency.py",
    "tests/scheduling/test_patient_overlap.py",
    "tests/scheduling/test_dispatch_committed.py",
    # Issue 15: the undo's transaction and lock; the lock of a waiting series message.
    "tests/portal/test_confirm_and_undo.py",
    "tests/scheduling/test_change_notices.py",
    # Issue 17: the offices' services (change and audit together; the hours' constraint).
    "tests/scheduling/test_offices.py",
    # Issue 14: two-step login's device locks; the record export's one moment.
    "tests/goodskin/test_two_factor.py",
    "tests/goodskin/test_password_reset_limits.py",
    "tests/goodskin/test_seed_demo.py",
    "tests/patients/test_record_export.py",
    # Issue 15: booking the next session once; the patient's answers and their review.
    "tests/portal/test_book_next.py",
    "tests/portal/test_my_screening.py",
    # Issue 15, point 1: the online request's transactions and row locks.
    "tests/portal/test_online_booking.py",
]


@dataclass(frozen=True)
class Guard:
    path: Path
    line: int  # 1-based
    kind: str
    text: str

    def without(self, source: str) -> str:
        lines = source.splitlines(keepends=True)
        offset = sum(len(line) for line in lines[: self.line - 1])
        out = REMOVE[self.kind](source, offset, offset + len(lines[self.line - 1]))
        if "contextlib.nullcontext" in out and "import contextlib" not in out:
            out = "import contextlib\n" + out
        return out


def _strip_call(source: str, start: int, name: str) -> str:
    """`locked(X, ...)` -> `X`; `.select_for_update(...)` -> ``, the call spanning lines or
    not."""
    depth, first_comma, end = 0, None, None
    for index in range(start + len(name), len(source)):
        char = source[index]
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
            if depth == 0:
                end = index
                break
        elif char == "," and depth == 1 and first_comma is None:
            first_comma = index
    if name == "locked":
        inner = source[start + len(name) + 1 : first_comma or end]
        return source[:start] + inner.strip() + source[end + 1 :]
    return source[:start] + source[end + 1 :]


def _in_line(pattern: str, replace):
    def remove(source: str, begin: int, end: int) -> str:
        return source[:begin] + re.sub(pattern, replace, source[begin:end], count=1) + source[end:]

    return remove


def _call(name: str):
    def remove(source: str, begin: int, end: int) -> str:
        return _strip_call(source, source.index(name + "(", begin, end), name)

    return remove


REMOVE = {
    "atomic decorator": lambda source, begin, end: source[:begin] + source[end:],
    "atomic block": _in_line(
        r"transaction\.atomic\([^)]*\)|transaction\.atomic", "contextlib.nullcontext()"
    ),
    "locked": _call("locked"),
    "select_for_update": _call(".select_for_update"),
    "skip_locked": _in_line(r",?\s*skip_locked=True", ""),
}


def guards(only: str | None) -> list[Guard]:
    found = []
    for app in APPS:
        if only and app != only:
            continue
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            for number, line in enumerate(path.read_text().splitlines(), 1):
                code = line.split("#", 1)[0]
                if re.match(r"\s*@transaction\.atomic\b", code):
                    found.append(Guard(path, number, "atomic decorator", line.strip()))
                elif "transaction.atomic" in code:
                    found.append(Guard(path, number, "atomic block", line.strip()))
                if re.search(r"(?<![\w.])locked\(", code) and "def locked" not in code:
                    found.append(Guard(path, number, "locked", line.strip()))
                if ".select_for_update(" in code:
                    found.append(Guard(path, number, "select_for_update", line.strip()))
                if "skip_locked=True" in code:
                    found.append(Guard(path, number, "skip_locked", line.strip()))
    return found


def run_tests(guard: Guard, extra: list[str]) -> bool:
    """True when every test passed. The guard's own app's tests run first, and the first
    failure stops the run; the test database is kept between runs (the schema is the same)."""
    app = guard.path.relative_to(ROOT).parts[0]
    tests = sorted(
        (t for t in TESTS if (ROOT / t).exists()), key=lambda t: not t.startswith(f"tests/{app}/")
    )
    options = ["-x", "-q", "-p", "no:cacheprovider", "--reuse-db"]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", *options, *tests, *extra],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    return done.returncode == 0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", choices=APPS)
    parser.add_argument("extra", nargs="*")
    args = parser.parse_args()
    unproved = []
    for guard in guards(args.only):
        original = guard.path.read_text()
        try:
            guard.path.write_text(guard.without(original))
            green = run_tests(guard, args.extra)
        finally:
            guard.path.write_text(original)
        where = f"{guard.path.relative_to(ROOT)}:{guard.line}"
        print(f"{'UNPROVED' if green else 'needed  '}  {where:<42} {guard.kind:<18} {guard.text}")
        sys.stdout.flush()
        if green:
            unproved.append(where)
    print(f"\n{len(unproved)} guard(s) no test shows to be needed: {', '.join(unproved) or '-'}")
    return 1 if unproved else 0


if __name__ == "__main__":
    sys.exit(main())
