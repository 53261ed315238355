"""The apps lean one way: patients <- messaging <- treatments <- scheduling <- portal | reports
(the two top apps side by side: neither imports the other). An app
imports only from apps to its left, and never names an upper app's tables (a lookup such as
"appointments__starts_at" in patients would be one): it exposes a function or a registry the
upper app fills instead (issue 12, point 3)."""

import ast
import re
from pathlib import Path

from django.apps import apps

ROOT = Path(__file__).resolve().parent.parent.parent
ORDER = ["patients", "messaging", "treatments", "scheduling", "portal", "reports"]
# Apps on one level: the patient's pages and the reports both read every app below and
# neither knows the other.
LEVELS = {"reports": ORDER.index("portal")}


def rank(app: str) -> int:
    return LEVELS.get(app, ORDER.index(app))


def out_of_reach(app: str, other: str) -> bool:
    """`other` is above `app`, or beside it: `app` may not import it or name its tables."""
    return other != app and rank(other) >= rank(app)


def sources(app: str):
    """The app's Python modules (not its migrations: a migration may name the app a table
    came from) and its templates."""
    for path in sorted((ROOT / app).rglob("*.py")):
        if "migrations" not in path.parts:
            yield path
    yield from sorted((ROOT / "templates" / app).rglob("*.*"))


def imported_apps(path: Path) -> set[str]:
    """Apps a module imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found |= {name.split(".")[0] for name in names} & set(ORDER)
    return found


def test_every_app_of_the_map_is_installed():
    installed = {config.label for config in apps.get_app_configs()}
    assert set(ORDER) <= installed


def test_an_app_imports_only_from_the_apps_to_its_left():
    wrong = [
        f"{path.relative_to(ROOT)} imports {other}"
        for app in ORDER
        if (ROOT / app).is_dir()
        for path in sources(app)
        if path.suffix == ".py"
        for other in imported_apps(path)
        if out_of_reach(app, other)
    ]
    assert wrong == []


def upper_relations(app: str) -> set[str]:
    """Names by which an upper app's tables can be reached from `app`'s models: the reverse
    accessors and query names of their foreign keys to them."""
    names = set()
    for model in apps.get_app_config(app).get_models():
        for relation in model._meta.related_objects:
            other = relation.related_model._meta.app_label
            if other in ORDER and out_of_reach(app, other):
                names |= {relation.get_accessor_name() or "", relation.name}
    return {name for name in names if name and not name.endswith("+")}


def test_no_app_reaches_into_an_upper_app_s_tables_by_name():
    wrong = []
    for app in ORDER:
        if not (ROOT / app).is_dir():
            continue
        names = upper_relations(app)
        if not names:
            continue
        # "appointments__starts_at", ".treatment_plans.", "'messages'" as a field name
        pattern = re.compile(
            r"\b(%s)__|\.(%s)\b(?!\()|[\"'](%s)[\"']" % (("|".join(map(re.escape, names)),) * 3)
        )
        for path in sources(app):
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if pattern.search(line) and "import" not in line:
                    wrong.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert wrong == []


def test_no_app_links_to_an_upper_app_s_pages_by_name():
    """A link to a page of an app above goes through goodskin.links, filled by that app."""
    wrong = []
    for app in ORDER:
        if not (ROOT / app).is_dir():
            continue
        upper = [other for other in ORDER if out_of_reach(app, other)]
        if not upper:
            continue
        pattern = re.compile("[\"'](" + "|".join(upper) + "):")
        for path in sources(app):
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if pattern.search(line):
                    wrong.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert wrong == []


def test_the_top_apps_stand_side_by_side():
    assert out_of_reach("portal", "reports")
    assert out_of_reach("reports", "portal")
    assert not out_of_reach("reports", "scheduling")
