"""The house rules of docs/architecture.md, checked on the code's own imports.

Layers point one way: pure packages <- infrastructure <- models <- services <- views / jobs /
CLI <- the app factory. These tests read every product module's imports (module-level and inside
functions) with ``ast``, so a rule broken anywhere fails here with the offending line.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCT_PACKAGES = ("lti_app", "rubrics", "grading", "certificates")
PURE_PACKAGES = ("rubrics", "grading", "certificates")
MAX_MODULE_LINES = 600

# Layer of each part of the product (the longest matching prefix wins); see docs/architecture.md.
PURE, INFRASTRUCTURE, MODELS, SERVICES, EDGE, FACTORY = range(6)
LAYERS: dict[str, int] = {
    "rubrics": PURE,
    "grading": PURE,
    "certificates": PURE,
    "lti_app.matching": PURE,
    "lti_app.config": INFRASTRUCTURE,
    "lti_app.extensions": INFRASTRUCTURE,
    "lti_app.intents": INFRASTRUCTURE,
    "lti_app.storage": INFRASTRUCTURE,
    "lti_app.mail": INFRASTRUCTURE,
    "lti_app.log_redaction": INFRASTRUCTURE,
    "lti_app.email_templates": INFRASTRUCTURE,
    "lti_app.validation": INFRASTRUCTURE,
    "lti_app.timezones": INFRASTRUCTURE,
    "lti_app.i18n": INFRASTRUCTURE,
    "lti_app.formatting": INFRASTRUCTURE,
    "lti_app.wording": INFRASTRUCTURE,
    "lti_app.models": MODELS,
    "lti_app.services": SERVICES,
    "lti_app.read_models": SERVICES,
    "lti_app.lti": SERVICES,
    "lti_app.lms": SERVICES,
    "lti_app.uploads": SERVICES,
    "lti_app.lti.views": EDGE,
    "lti_app.lti.landing": EDGE,
    "lti_app.lti.setup_views": EDGE,
    "lti_app.instructor": EDGE,
    "lti_app.student": EDGE,
    "lti_app.review": EDGE,
    "lti_app.public": EDGE,
    "lti_app.jobs": EDGE,
    "lti_app.cli": EDGE,
    "lti_app.cli_rubrics": EDGE,
    "lti_app.cli_data": EDGE,
    "lti_app.auth": EDGE,
    "lti_app.scoping": EDGE,
    "lti_app.security": EDGE,
    "lti_app.panels": EDGE,
    "lti_app.markup_memo": EDGE,
    "lti_app.forms": EDGE,
    "lti_app.course_time": EDGE,
    "lti_app.errors": EDGE,
    "lti_app.urls": EDGE,
    "lti_app.markdown": EDGE,
    "lti_app.downloads": EDGE,
    "lti_app.certificate_downloads": EDGE,
    "lti_app.dev_platform": EDGE,  # and only the factory and the CLI import it (test below)
    "lti_app": FACTORY,
}
# Services record and flush; these commit on purpose, for the reason given.
COMMITTING_BELOW_THE_EDGE = {
    # The first start creates the signing key wherever it is first needed (JWKS, a signature);
    # it must be committed at once so that every process signs with the same key.
    "lti_app.lti.keys",
    # A first-use marker is committed at once on a connection of its own, so a launch that
    # fails after spending its state leaves it spent (docs/architecture.md, rule 2).
    "lti_app.lti.single_use",
}
FLASK_RESPONSES = {"send_file", "send_from_directory", "render_template", "abort", "redirect"}


@dataclass(frozen=True)
class Import:
    source: str
    target: str
    line: int


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PRODUCT_PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _known(name: str) -> str | None:
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(module: str) -> Iterator[tuple[ast.stmt, list[str]]]:
    path = MODULES[module]
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield node, [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package[: len(package) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            names = [f"{base}.{alias.name}" for alias in node.names]
            yield node, [n for n in names if n in MODULES] or [base]


def _internal_imports() -> list[Import]:
    edges = []
    for module in MODULES:
        for node, names in _imports(module):
            for name in names:
                target = _known(name)
                if target and target != module:
                    edges.append(Import(module, target, node.lineno))
    return edges


def layer_of(module: str) -> int:
    prefixes = [p for p in LAYERS if module == p or module.startswith(p + ".")]
    assert prefixes, f"{module} has no layer: add it to LAYERS and docs/architecture.md"
    return LAYERS[max(prefixes, key=len)]


def test_every_module_has_a_layer() -> None:
    for module in MODULES:
        layer_of(module)


def test_no_import_points_up_a_layer() -> None:
    upward = [
        f"{edge.source}:{edge.line} imports {edge.target}"
        for edge in _internal_imports()
        if layer_of(edge.target) > layer_of(edge.source)
    ]
    assert upward == []


def test_the_import_graph_has_no_circle() -> None:
    graph: dict[str, set[str]] = {module: set() for module in MODULES}
    for edge in _internal_imports():
        graph[edge.source].add(edge.target)
    circles: list[list[str]] = []
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for module in graph:
        if module not in index:
            visit(module)
    assert circles == []


def test_the_development_lms_is_reached_only_from_the_factory_and_the_cli() -> None:
    callers = {
        edge.source
        for edge in _internal_imports()
        if edge.target.startswith("lti_app.dev_platform")
        and not edge.source.startswith("lti_app.dev_platform")
    }
    assert callers <= {"lti_app", "lti_app.cli"}


@pytest.mark.parametrize("package", PURE_PACKAGES)
def test_pure_packages_know_no_web_and_no_database(package: str) -> None:
    forbidden = ("flask", "sqlalchemy", "flask_sqlalchemy", "lti_app", "werkzeug")
    found = [
        f"{module}:{node.lineno} imports {name}"
        for module in MODULES
        if module.split(".")[0] == package
        for node, names in _imports(module)
        for name in names
        if name.split(".")[0] in forbidden
    ]
    assert found == []


def test_no_product_module_is_over_the_size_limit() -> None:
    sizes = {m: len(p.read_text().splitlines()) for m, p in MODULES.items()}
    assert {m: n for m, n in sizes.items() if n > MAX_MODULE_LINES} == {}


def _below_the_edge(module: str) -> bool:
    return layer_of(module) < EDGE


def test_services_never_commit() -> None:
    committing = []
    for module, path in MODULES.items():
        if not _below_the_edge(module) or module in COMMITTING_BELOW_THE_EDGE:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "commit"
            ):
                committing.append(f"{module}:{node.lineno}")
    assert committing == []


def test_services_build_no_http_response() -> None:
    found = [
        f"{module}:{node.lineno} imports {name}"
        for module in MODULES
        if _below_the_edge(module) and module != "lti_app.email_templates"
        for node, names in _imports(module)
        if isinstance(node, ast.ImportFrom) and node.module == "flask"
        for name in (alias.name for alias in node.names)
        if name in FLASK_RESPONSES
    ]
    assert found == []


def test_services_never_import_jobs_or_views() -> None:
    found = [
        f"{edge.source}:{edge.line} imports {edge.target}"
        for edge in _internal_imports()
        if layer_of(edge.source) <= SERVICES and layer_of(edge.target) >= EDGE
    ]
    assert found == []
