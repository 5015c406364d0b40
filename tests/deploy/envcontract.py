"""What the project reads from the environment, and what deploy/.env.example documents."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "deploy" / ".env.example"
HELPERS = {"env_str", "env_bool", "env_int", "env_list"}
# Python files that read settings straight from the environment.
READERS = (ROOT / "authcheck" / "settings.py", ROOT / "deploy" / "gunicorn.conf.py")
# Shell scripts whose ${VAR:-default} expansions are configuration too.
SCRIPTS = (ROOT / "scripts" / "run",)


def _call_name(node: ast.Call) -> str:
    func = node.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _first_literal(node: ast.Call) -> str | None:
    if node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
        return node.args[0].value
    return None


def variables_read_by(path: Path) -> set[str]:
    """Names passed as literals to env helpers, ``os.environ.get`` or ``os.getenv``.

    ``env_secret(NAME)`` reads ``NAME`` and ``NAME_FILE``.
    """
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Call):
            continue
        name, literal = _call_name(node), _first_literal(node)
        if literal is None:
            continue
        if name in HELPERS or (name in {"get", "getenv"} and _reads_environ(node)):
            names.add(literal)
        elif name == "env_secret":
            names.update({literal, f"{literal}_FILE"})
    return names


def _reads_environ(node: ast.Call) -> bool:
    source = ast.unparse(node.func)
    return source in {"os.environ.get", "os.getenv", "environ.get"}


def variables_read() -> set[str]:
    """Every environment variable the project's settings, server config and scripts read."""
    names: set[str] = set()
    for path in READERS:
        names |= variables_read_by(path)
    for script in SCRIPTS:
        names |= set(re.findall(r"\$\{([A-Z][A-Z0-9_]*):-", script.read_text()))
    return names


def example_entries() -> dict[str, tuple[str, str]]:
    """``NAME -> (value, explanation)`` from deploy/.env.example.

    The explanation is the comment block directly above the variable, or above the group of
    variables it belongs to (consecutive lines with no blank line between them).
    """
    entries: dict[str, tuple[str, str]] = {}
    comment: list[str] = []
    for line in EXAMPLE.read_text().splitlines():
        stripped = line.strip()
        if not stripped:
            comment = []
        elif stripped.startswith("#"):
            comment.append(stripped.lstrip("# "))
        else:
            name, sep, value = stripped.partition("=")
            assert sep, f"not NAME=value: {line!r}"
            assert name not in entries, f"{name} listed twice"
            entries[name] = (value, " ".join(comment))
    return entries
