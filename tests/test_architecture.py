"""The layout holds: no import cycle among probe's modules (imports inside functions count),
no module over 400 lines, and each package's face is what its __all__ says."""
from __future__ import annotations

import ast
import importlib
from pathlib import Path

import probe

PACKAGE = Path(probe.__file__).resolve().parent
LIMIT = 400
# A state machine that splitting would hurt may reach 450 lines.
LONGER = {"probe.check.wire": 450}


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The probe modules that `name` imports, wherever the import statement stands."""
    is_package = path.name == "__init__.py"
    targets = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module or ""
            candidates = [f"{stem}.{alias.name}" for alias in node.names] + [stem]
        else:
            continue
        for candidate in candidates:
            # the longest known module that the import names (a name inside it, or the module)
            while candidate and candidate not in known:
                candidate = candidate.rpartition(".")[0]
            if candidate and candidate != name:
                targets.add(candidate)
                break
    return targets


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
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
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    graph = {name: _imports(name, path, known) for name, path in modules.items()}
    # A package's face imports its own modules; a module that imports its own package's face
    # is what makes a circle, so that edge stays.
    return graph


def test_no_import_cycle():
    assert _cycles(_graph()) == []


def test_no_module_over_400_lines():
    long = {
        name: n
        for name, path in _modules().items()
        if (n := len(path.read_text().splitlines())) > LONGER.get(name, LIMIT)
    }
    assert long == {}


def test_every_package_has_a_face():
    for name, path in _modules().items():
        if path.name == "__init__.py" and name != "probe":
            module = importlib.import_module(name)
            assert isinstance(getattr(module, "__all__", None), list), f"{name} has no __all__"
            for public in module.__all__:
                assert hasattr(module, public), f"{name}.__all__ names {public}, which it lacks"


def test_every_package_is_installed():
    """setup.cfg lists each package, so that an installed probe (not only a checkout) has them."""
    import configparser

    setup = configparser.ConfigParser()
    setup.read(Path(__file__).resolve().parents[1] / "setup.cfg")
    listed = set(setup["options"]["packages"].split())
    packages = {name for name, path in _modules().items() if path.name == "__init__.py"}
    assert packages <= listed


LEAVES = {"probe", "probe.result", "probe.spec", "probe.urls", "probe.runtime", "probe.text", "probe.labels",
          "probe.contract"}
# Who may import whom (docs/architecture.md): down the data flow only, and the leaves.
MAY_IMPORT = {
    "config": set(),
    "schedule": {"config", "check"},
    "check": set(),
    "store": {"sla", "config"},
    "sla": set(),
    "report": {"config", "store", "sla"},
    "render": set(),
    "alerts": {"config", "store", "sla"},
    "daemon": {"config", "schedule", "check", "store", "sla", "report", "render", "alerts"},
    "cli": {"config", "schedule", "check", "store", "sla", "report", "render", "alerts", "daemon"},
}


def _package(module: str) -> str:
    return module if module in LEAVES or module == "probe.__main__" else module.split(".")[1]


def test_packages_import_only_down_the_flow():
    wrong = set()
    for name, targets in _graph().items():
        source = _package(name)
        for target in targets:
            to = _package(target)
            if source in LEAVES:
                if to not in LEAVES:
                    wrong.add((name, target))
            elif to not in LEAVES and to != source and source in MAY_IMPORT and to not in MAY_IMPORT[source]:
                wrong.add((name, target))
    assert wrong == set()
    assert set(MAY_IMPORT) | {"reports"} >= {_package(n) for n in _modules() if n not in LEAVES and n != "probe.__main__"}
