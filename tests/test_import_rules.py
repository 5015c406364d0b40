"""The layering of docs/ARCHITECTURE.md, enforced: imports go one way, writes live in services.

Every ``import`` in ``authcheck/`` is read from the source (also those inside functions, which
is where cycles used to hide), except under ``if TYPE_CHECKING:``. The rules:

- no import cycle anywhere in the package;
- ``services`` never import the interfaces (``tasks``, ``api``, management commands);
- the read side (``selectors``, ``selectors_dashboard``, ``presenters``) never imports ``services``;
- ``detectors`` use neither Django nor the database nor the wiring (settings, registry);
- detector plugins never import each other (shared helpers live in ``detectors.common``);
- ``pipeline`` stages import neither ``detectors`` nor Django settings, models or services;
- only ``services`` (and migrations) write to the database.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "authcheck"

# Attribute calls that write through the ORM. ``save()``/``delete()`` count only without
# positional arguments (``image.save(buffer)`` is Pillow, not Django).
WRITE_CALLS = frozenset(
    {"create", "bulk_create", "get_or_create", "update_or_create", "bulk_update", "update"}
)
WRITE_METHODS = frozenset({"save", "delete"})


@dataclass
class Module:
    name: str
    path: Path
    tree: ast.Module
    imports: set[str] = field(default_factory=set)


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(n) for child in node.body for n in ast.walk(child))
    return skipped


def _imported(node: ast.AST, module: str, is_package: bool, known: set[str]) -> Iterator[str]:
    if isinstance(node, ast.Import):
        for alias in node.names:
            yield alias.name
    elif isinstance(node, ast.ImportFrom):
        if node.level:
            base = module.split(".") if is_package else module.split(".")[:-1]
            base = base[: len(base) - (node.level - 1)]
            source = ".".join(base + ([node.module] if node.module else []))
        else:
            source = node.module or ""
        for alias in node.names:
            candidate = f"{source}.{alias.name}"
            yield candidate if candidate in known else source


def parse(sources: dict[str, tuple[Path, str]]) -> dict[str, Module]:
    """Modules by dotted name, with the authcheck (and django) modules each one imports."""
    known = set(sources)
    modules = {}
    for name, (path, text) in sources.items():
        tree = ast.parse(text)
        module = Module(name, path, tree)
        skipped = _type_checking_nodes(tree)
        for node in ast.walk(tree):
            if id(node) in skipped:
                continue
            for target in _imported(node, name, path.name == "__init__.py", known):
                if target.startswith(("authcheck", "django", "celery")):
                    module.imports.add(target)
        modules[name] = module
    return modules


def package_sources() -> dict[str, tuple[Path, str]]:
    """Every module of the package except migrations."""
    return {
        _module_name(path): (path, path.read_text())
        for path in sorted(PACKAGE.rglob("*.py"))
        if "migrations" not in path.parts
    }


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def cycles(modules: dict[str, Module]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), over authcheck imports."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(name: str) -> None:
        index[name] = low[name] = len(index)
        stack.append(name)
        on_stack.add(name)
        for target in sorted(modules[name].imports):
            if target not in modules or target == name or _under(name, target):
                continue  # a package's __init__ runs before its modules anyway
            if target not in index:
                visit(target)
                low[name] = min(low[name], low[target])
            elif target in on_stack:
                low[name] = min(low[name], index[target])
        if low[name] == index[name]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == name:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for name in sorted(modules):
        if name not in index:
            visit(name)
    return found


FORBIDDEN = [
    # (importer prefix, imported prefix, why)
    ("authcheck.services", "authcheck.tasks", "services publish tasks by name"),
    ("authcheck.services", "authcheck.api", "services do not know the interfaces"),
    ("authcheck.services", "authcheck.management", "services do not know the interfaces"),
    ("authcheck.selectors", "authcheck.services", "the read side does not call the write side"),
    (
        "authcheck.selectors_dashboard",
        "authcheck.services",
        "the read side does not call the write side",
    ),
    ("authcheck.presenters", "authcheck.services", "the read side does not call the write side"),
    ("authcheck.detectors", "django", "detectors are pure plugins"),
    ("authcheck.detectors", "authcheck.models", "detectors never touch the database"),
    ("authcheck.detectors", "authcheck.services", "detectors never touch the database"),
    ("authcheck.detectors", "authcheck.registry", "the registry is wiring"),
    ("authcheck.detectors", "authcheck.limits", "settings are wiring"),
    ("authcheck.pipeline", "authcheck.detectors", "stages feed detectors, not the reverse"),
    ("authcheck.pipeline", "django.conf", "stages take their limits as arguments"),
    ("authcheck.pipeline", "authcheck.models", "stages are pure"),
    ("authcheck.pipeline", "authcheck.services", "stages are pure"),
]


def _class_attributes(node: ast.ClassDef) -> set[str]:
    names = set()
    for statement in node.body:
        if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
            names.add(statement.target.id)
        elif isinstance(statement, ast.Assign):
            names.update(t.id for t in statement.targets if isinstance(t, ast.Name))
    return names


def _plugins(modules: dict[str, Module]) -> set[str]:
    """Modules that define a detector plugin (a class with ``name``, ``version`` and
    ``media_kinds``), read from the source like everything else here."""
    return {
        m.name
        for m in modules.values()
        if _under(m.name, "authcheck.detectors")
        for node in ast.walk(m.tree)
        if isinstance(node, ast.ClassDef)
        and node.name != "Detector"
        and {"name", "version", "media_kinds"} <= _class_attributes(node)
    }


def forbidden_imports(modules: dict[str, Module]) -> list[str]:
    """Every arrow that breaks a FORBIDDEN rule, or joins two detector plugins, as lines."""
    broken = [
        f"{m.name} imports {target}: {why}"
        for m in modules.values()
        for target in sorted(m.imports)
        for importer, imported, why in FORBIDDEN
        if _under(m.name, importer) and _under(target, imported)
    ]
    plugins = _plugins(modules)
    broken += [
        f"{name} imports {target}: detector plugins do not import each other"
        for name in sorted(plugins)
        for target in sorted(modules[name].imports & plugins)
        if target != name
    ]
    return broken


def _writes(tree: ast.Module) -> Iterator[int]:
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        attr, receiver = node.func.attr, ast.unparse(node.func.value)
        if attr in WRITE_CALLS and ("objects" in receiver or "_set" in receiver):
            yield node.lineno
        elif attr in WRITE_METHODS and not node.args and not receiver.endswith(("path", "file")):
            yield node.lineno


def writes_outside_services(modules: dict[str, Module]) -> list[str]:
    """ORM writes in modules that are not services."""
    return [
        f"{m.name}:{line} writes to the database outside services/"
        for m in modules.values()
        if not _under(m.name, "authcheck.services")
        for line in _writes(m.tree)
    ]


@pytest.fixture(scope="module")
def modules() -> dict[str, Module]:
    return parse(package_sources())


def test_there_is_no_import_cycle(modules: dict[str, Module]) -> None:
    assert cycles(modules) == []


def test_no_layer_imports_what_it_must_not(modules: dict[str, Module]) -> None:
    assert forbidden_imports(modules) == []


def test_only_services_write_to_the_database(modules: dict[str, Module]) -> None:
    assert writes_outside_services(modules) == []


def test_the_rules_catch_an_injected_forbidden_import_a_cycle_and_a_write() -> None:
    """The checks above can fail: add offending modules to the real package and see them."""
    sources = package_sources()
    fake = PACKAGE / "pipeline" / "injected.py"
    sources["authcheck.pipeline.injected"] = (fake, "from authcheck.detectors.base import Frame\n")
    sources["authcheck.services.loop_a"] = (
        fake,
        "def f():\n    from authcheck.services import loop_b\n",
    )
    sources["authcheck.services.loop_b"] = (fake, "from authcheck.services import loop_a\n")
    sources["authcheck.services.enqueue"] = (fake, "def f():\n    from authcheck.tasks import x\n")
    sources["authcheck.presenters"] = (fake, "from authcheck.services.audit import audit_record\n")
    sources["authcheck.selectors_dashboard"] = (fake, "from authcheck.services import detection\n")
    sources["authcheck.detectors.copycat"] = (
        fake,
        "from authcheck.detectors.ai_labels import find_declarations\n"
        "class Copycat:\n    name = 'copycat'\n    version = '1'\n    media_kinds = frozenset()\n",
    )
    sources["authcheck.management.commands.writer"] = (
        fake,
        "from authcheck.models import User\n"
        "def f():\n    User.objects.get_or_create(username='x')\n",
    )
    modules = parse(sources)
    assert "authcheck.pipeline.injected imports authcheck.detectors.base: " in "\n".join(
        forbidden_imports(modules)
    )
    assert any(
        line.startswith("authcheck.services.enqueue imports authcheck.tasks")
        for line in forbidden_imports(modules)
    )
    assert {
        "authcheck.presenters imports authcheck.services.audit: the read side does not call the "
        "write side",
        "authcheck.selectors_dashboard imports authcheck.services.detection: the read side does "
        "not call the write side",
    } <= set(forbidden_imports(modules))
    assert (
        "authcheck.detectors.copycat imports authcheck.detectors.ai_labels: detector plugins do "
        "not import each other" in forbidden_imports(modules)
    )
    assert {"authcheck.detectors.ai_labels", "authcheck.detectors.near_duplicate"} <= _plugins(
        modules
    )
    assert ["authcheck.services.loop_a", "authcheck.services.loop_b"] in cycles(modules)
    assert writes_outside_services(modules) == [
        "authcheck.management.commands.writer:3 writes to the database outside services/"
    ]
