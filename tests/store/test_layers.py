"""The store is a core layer: it imports only the errors, the template spec and itself (never search/)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

STORE = Path(__file__).resolve().parents[2] / "src" / "pba_tunnel" / "store"
# files and local_errors: leaves (they import only errors), for the store's SQLite folder and a missing store file
ALLOWED = (
    "pba_tunnel.store",
    "pba_tunnel.errors",
    "pba_tunnel.templates",
    "pba_tunnel.files",
    "pba_tunnel.local_errors",
)
MAX_LINES = 400


def _our_imports(path: Path) -> list[str]:
    package = "pba_tunnel." + ".".join(path.relative_to(STORE.parent).parent.parts)
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                found.append(f"{base}.{node.module}" if node.module else base)
            elif node.module and node.module.startswith("pba_tunnel"):
                found.append(node.module)
        elif isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names if alias.name.startswith("pba_tunnel"))
    return found


def test_the_store_imports_nothing_above_it() -> None:
    outside = {
        f"{path.relative_to(STORE)}: {module}"
        for path in STORE.rglob("*.py")
        for module in _our_imports(path)
        if not module.startswith(ALLOWED)
    }
    assert outside == set()


def test_every_store_module_is_small() -> None:
    sizes = {path.name: len(path.read_text(encoding="utf-8").splitlines()) for path in STORE.glob("*.py")}
    assert {name: size for name, size in sizes.items() if size > MAX_LINES} == {}


def test_only_the_service_holds_the_store() -> None:
    # server/ is being rewritten (healthz switches to service.count()); bench*.py move under tests/.
    package = STORE.parent
    reach = re.compile(r"[\w)\]]\.store\b(?!\s+import)|\._store\b")
    holders = {package / f for f in ("changes.py", "usage.py", "labels.py", "tokens.py")} | set(
        package.glob("service*.py")
    )  # the service and its parts
    offenders = [
        f"{path.relative_to(package)}:{number}: {line.strip()}"
        for path in package.rglob("*.py")
        if path not in holders
        and not path.name.startswith("bench")
        and "server" not in path.relative_to(package).parts
        and STORE not in path.parents
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if reach.search(line)
    ]
    assert offenders == []
