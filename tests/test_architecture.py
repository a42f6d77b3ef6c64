"""The rules DESIGN.md draws, checked on the source with ``ast``: layers, no import cycles, portable calls only,
no private APIs of dependencies, one reader of the environment.

Every import statement counts, wherever it is: at module level, inside functions (lazy imports for cold
start) and under ``if TYPE_CHECKING:``. A lazy or type-only import still ties the two modules together:
moving or splitting one breaks the other, so a cycle through one is still a cycle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

PACKAGE = "pba_tunnel"
SRC = Path(__file__).resolve().parents[1] / "src" / PACKAGE
# The one module allowed POSIX-only calls: the Unix stdio transport, chosen at run time with a portable fallback.
UNIX_TRANSPORT = SRC / "server" / "stdio_unix.py"
# The only module that reads the environment (pydantic-settings' Settings lives there; see config.py).
ENVIRONMENT_READERS = {SRC / "config.py"}


@dataclass(frozen=True)
class Source:
    """One module of the package: its dotted name, file and syntax tree."""

    name: str
    path: Path
    tree: ast.Module

    @property
    def relative(self) -> str:
        """The path shown in failures, e.g. ``src/pba_tunnel/server/http.py``."""
        return str(self.path.relative_to(SRC.parents[1]))


@cache
def sources() -> tuple[Source, ...]:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found.append(Source(".".join(parts), path, ast.parse(path.read_text(encoding="utf-8"), str(path))))
    return tuple(found)


@cache
def module_names() -> frozenset[str]:
    return frozenset(source.name for source in sources())


def imported_names(source: Source) -> Iterator[tuple[str, int]]:
    """Every absolute module name ``source`` imports (ours and others'), with its line."""
    package = source.name if source.path.name == "__init__.py" else source.name.rpartition(".")[0]
    for node in ast.walk(source.tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            submodules = [f"{target}.{alias.name}" for alias in node.names]
            # ``from . import commands_db`` imports that submodule; its package's __init__ is no dependency
            # of note (every submodule loads its package first), so it is no edge either.
            ours = [name for name in submodules if name in module_names()]
            if ours and len(ours) == len(submodules):
                for name in ours:
                    yield name, node.lineno
            else:
                yield target, node.lineno
                for name in ours:
                    yield name, node.lineno


@cache
def module_graph() -> dict[str, frozenset[str]]:
    """Our module -> our modules it imports."""
    return {
        source.name: frozenset(
            name for name, _line in imported_names(source) if name in module_names() and name != source.name
        )
        for source in sources()
    }


def unit(module: str) -> str:
    """The top-level piece of the package a module belongs to: ``pba_tunnel.store.records`` -> ``store``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def cycles(graph: dict[str, frozenset[str]]) -> list[list[str]]:
    """The strongly connected components with more than one member (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def report(found: list[str] | list[list[str]]) -> str:
    """Every violation on its own line, so one run shows them all."""
    lines = [" <-> ".join(item) if isinstance(item, list) else item for item in found]
    return "\n" + "\n".join(sorted(lines, key=lambda line: [int(p) if p.isdigit() else p for p in line.split(":")]))


def test_no_import_cycles_between_modules() -> None:
    found = cycles(module_graph())
    assert not found, report(found)


def test_no_import_cycles_between_subpackages() -> None:
    units: dict[str, set[str]] = {}
    for module, targets in module_graph().items():
        units.setdefault(unit(module), set()).update(unit(t) for t in targets if unit(t) != unit(module))
    found = cycles({name: frozenset(targets) for name, targets in units.items()})
    assert not found, report(found)


# (subpackage, what it may import among ours) and (subpackage, what it must never import).
BASE = {"errors", "config"}
ALLOWED = {
    "errors": set(),
    "config": {"errors"},
    "logging": {"errors"},
    "templates": BASE,
    "rendering": BASE | {"templates"},
}
FORBIDDEN = {
    "store": {"search"},
    "server": {"cli"},
    "web": {"server", "cli"},
}
ADAPTERS = {"server", "cli", "web", "__main__"}


def layer_violations() -> list[str]:
    found = []
    for source in sources():
        here = unit(source.name)
        for name, line in imported_names(source):
            if name not in module_names() or unit(name) == here:
                continue
            there = unit(name)
            if here in ALLOWED and there not in ALLOWED[here]:
                found.append(f"{source.relative}:{line}: {here}/ imports {there} ({name})")
            if there in FORBIDDEN.get(here, set()):
                found.append(f"{source.relative}:{line}: {here}/ imports {there} ({name})")
            if there in ADAPTERS and here not in ADAPTERS:
                found.append(f"{source.relative}:{line}: {here} imports the {there} adapter ({name})")
    return found


def test_layers_import_only_downwards() -> None:
    found = layer_violations()
    assert not found, report(found)


# -- portability -----------------------------------------------------------------------------------------

# Modules that exist only on Unix (importing them fails on Windows).
POSIX_MODULES = {"fcntl", "termios", "tty", "pty", "resource", "grp", "pwd", "posix", "syslog"}
# Functions missing from Windows (os.*) and event-loop / anyio APIs that Windows' default loop lacks.
POSIX_ATTRIBUTES = {
    "os": {
        "pread",
        "pwrite",
        "preadv",
        "pwritev",
        "set_blocking",
        "get_blocking",
        "fork",
        "forkpty",
        "setsid",
        "setpgrp",
        "getpgid",
        "killpg",
        "mkfifo",
        "getuid",
        "geteuid",
        "getgid",
        "uname",
        "sysconf",
        "wait3",
        "wait4",
        "fchown",
        "fchmod",
        "sched_getaffinity",
    },
    "signal": {
        "SIGKILL",
        "SIGHUP",
        "SIGQUIT",
        "SIGUSR1",
        "SIGUSR2",
        "SIGPIPE",
        "SIGALRM",
        "SIGCHLD",
        "SIGSTOP",
        "SIGCONT",
        "alarm",
        "setitimer",
        "pthread_kill",
        "siginterrupt",
    },
    "select": {"poll", "epoll", "kqueue", "devpoll"},
}
POSIX_METHODS = {"add_reader", "add_writer", "remove_reader", "remove_writer", "add_signal_handler"}
POSIX_FUNCTIONS = {"open_signal_receiver"}  # anyio: not supported on Windows


def posix_violations(source: Source) -> Iterator[str]:
    where = source.relative
    for node in ast.walk(source.tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in POSIX_MODULES:
                    yield f"{where}:{node.lineno}: import {alias.name}"
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            top = node.module.split(".")[0]
            if top in POSIX_MODULES:
                yield f"{where}:{node.lineno}: from {node.module} import ..."
            for alias in node.names:
                if alias.name in POSIX_ATTRIBUTES.get(node.module, set()) | POSIX_FUNCTIONS:
                    yield f"{where}:{node.lineno}: from {node.module} import {alias.name}"
        elif isinstance(node, ast.Attribute):
            owner = node.value.id if isinstance(node.value, ast.Name) else None
            if owner in POSIX_ATTRIBUTES and node.attr in POSIX_ATTRIBUTES[owner]:
                yield f"{where}:{node.lineno}: {owner}.{node.attr}"
            elif node.attr in POSIX_METHODS | POSIX_FUNCTIONS:
                yield f"{where}:{node.lineno}: .{node.attr}"


def test_no_posix_only_calls_outside_the_unix_transport() -> None:
    found = [v for source in sources() if source.path != UNIX_TRANSPORT for v in posix_violations(source)]
    assert not found, report(found)


def test_the_portability_check_sees_what_it_looks_for() -> None:
    probe = "import fcntl\nimport os, signal\nos.pread(3, 1, 0)\nloop.add_reader(0, f)\nos.kill(1, signal.SIGKILL)\n"
    source = Source("probe", SRC / "probe.py", ast.parse(probe))
    assert sorted(v.split(": ", 1)[1] for v in posix_violations(source)) == [
        ".add_reader",
        "import fcntl",
        "os.pread",
        "signal.SIGKILL",
    ]


# -- private APIs of dependencies ---------------------------------------------------------------------------

# Internals of the SDK, Starlette and anyio that were reached for before; flagged even if a name of ours matches.
KNOWN_PRIVATE = {
    "_connection",
    "_send",
    "_receive",
    "_lowlevel_server",
    "_subscriptions",
    "_context_streams",
    "_mcp_server",
    "_read_stream",
    "_write_stream",
    "_request_context",
    "_session_manager",
    "_tool_manager",
    "_prompt_manager",
    "_resource_manager",
    "_incoming_message_stream_writer",
    "_response_streams",
}


def is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


@cache
def own_private_names() -> frozenset[str]:
    """Private names our own code defines (methods, functions, attributes set anywhere): using them is fine."""
    names: set[str] = set()
    for source in sources():
        for node in ast.walk(source.tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.add(node.name)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                names.add(node.attr)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                names.add(node.target.id)
            elif isinstance(node, ast.alias):
                names.add(node.asname or node.name)
    return frozenset(name for name in names if is_private(name)) - KNOWN_PRIVATE


def private_violations(source: Source) -> Iterator[str]:
    where = source.relative
    for node in ast.walk(source.tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if not alias.name.startswith(PACKAGE) and any(is_private(p) for p in alias.name.split(".")):
                    yield f"{where}:{node.lineno}: import {alias.name}"
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            if node.module.split(".")[0] == PACKAGE:
                continue
            if any(is_private(part) for part in node.module.split(".")):
                yield f"{where}:{node.lineno}: from {node.module} import ..."
            for alias in node.names:
                if is_private(alias.name):
                    yield f"{where}:{node.lineno}: from {node.module} import {alias.name}"
        elif isinstance(node, ast.Attribute) and is_private(node.attr):
            receiver = node.value
            if isinstance(receiver, ast.Name) and receiver.id in {"self", "cls"}:
                continue  # our own class's private state
            if node.attr in KNOWN_PRIVATE or node.attr not in own_private_names():
                yield f"{where}:{node.lineno}: ._{node.attr.lstrip('_')}"
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in {"getattr", "setattr", "hasattr"}
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
            and is_private(node.args[1].value)
            and (node.args[1].value in KNOWN_PRIVATE or node.args[1].value not in own_private_names())
        ):
            yield f"{where}:{node.lineno}: {node.func.id}(..., {node.args[1].value!r})"


def test_no_private_imports_or_attributes_of_dependencies() -> None:
    found = [v for source in sources() for v in private_violations(source)]
    assert not found, report(found)


def test_the_private_api_check_sees_what_it_looks_for() -> None:
    probe = (
        "from mcp.shared._context_streams import x\nimport anyio._backends\n"
        "session._connection.send(m)\nawait request._send(m)\ngetattr(server, '_lowlevel_server')\n"
    )
    source = Source("probe", SRC / "probe.py", ast.parse(probe))
    assert sorted(v.split(": ", 1)[1] for v in private_violations(source)) == [
        "._connection",
        "._send",
        "from mcp.shared._context_streams import ...",
        "getattr(..., '_lowlevel_server')",
        "import anyio._backends",
    ]


# -- the environment -------------------------------------------------------------------------------------


def environment_reads(source: Source) -> Iterator[str]:
    where = source.relative
    for node in ast.walk(source.tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "os":
            if node.attr in {"environ", "environb", "getenv", "getenvb", "putenv", "unsetenv"}:
                yield f"{where}:{node.lineno}: os.{node.attr}"
        elif isinstance(node, ast.ImportFrom) and node.module == "os":
            for alias in node.names:
                if alias.name in {"environ", "environb", "getenv", "getenvb"}:
                    yield f"{where}:{node.lineno}: from os import {alias.name}"
        elif isinstance(node, ast.keyword) and node.arg in {"envvar", "auto_envvar_prefix"}:
            yield f"{where}:{node.lineno}: click reads the environment ({node.arg}=)"


def test_only_the_settings_read_the_environment() -> None:
    found = [v for source in sources() if source.path not in ENVIRONMENT_READERS for v in environment_reads(source)]
    assert not found, report(found)


def test_the_cycle_check_sees_a_cycle() -> None:
    graph = {"a": frozenset({"b"}), "b": frozenset({"c"}), "c": frozenset({"a"}), "d": frozenset({"a"})}
    assert cycles(graph) == [["a", "b", "c"]]
