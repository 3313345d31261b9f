"""The folders read as the architecture: who may import whom, read from the source with ast
(nothing of the project is imported to check it). Every import counts, at the top of a
module, inside a function or under TYPE_CHECKING alike."""

from __future__ import annotations

import ast
import itertools
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("protocol", "hallconfig", "hall", "web", "city", "broker_config", "kiosk",
            "caller", "display", "voice", "hardware", "demo", "bench", "installer")
UIS = ("kiosk", "caller", "display")
HARDWARE_LIBRARIES = {"serial", "escpos", "usb", "gpiozero", "RPi", "lgpio", "pigpio",
                      "smbus", "smbus2", "spidev", "evdev", "smartcard", "hid"}
NOT_OURS = {".venv", "node_modules", "build", "__pycache__"}


@dataclass(frozen=True, slots=True)
class Import:
    """One module named by an import statement of one file."""

    path: Path  # relative to ROOT
    line: int
    module: str  # dotted, absolute

    @property
    def top(self) -> str:
        return self.module.split(".")[0]

    def __str__(self) -> str:
        return f"{self.path}:{self.line} imports {self.module}"


@cache
def python_files() -> tuple[Path, ...]:
    """Every Python file of the project (tests, tools and scripts too), relative to ROOT."""
    found: list[Path] = []
    for folder, subfolders, files in os.walk(ROOT):
        subfolders[:] = sorted(d for d in subfolders if d not in NOT_OURS
                               and not d.startswith(".") and not d.endswith(".egg-info"))
        found += [Path(folder, f).relative_to(ROOT) for f in sorted(files) if f.endswith(".py")]
    return tuple(found)


def module_name(path: Path) -> str:
    parts = list(path.with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def imports_of(path: Path) -> tuple[Import, ...]:
    """The modules ``path`` imports; ``from a import b`` names a.b when that is a module."""
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"), str(path))
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found: list[Import] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [Import(path, node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*package[:len(package) - node.level + 1], *filter(None, [base])])
            found.append(Import(path, node.lineno, base))
            found += [Import(path, node.lineno, f"{base}.{alias.name}") for alias in node.names
                      if is_module(f"{base}.{alias.name}")]
    return tuple(found)


def is_module(dotted: str) -> bool:
    return dotted in modules()


def module_path(dotted: str) -> Path:
    return modules()[dotted]


@cache
def modules() -> dict[str, Path]:
    return {module_name(p): p for p in python_files()}


def package_files(package: str) -> list[Path]:
    return [p for p in python_files() if p.parts[0] == package]


def loaded_by(paths: Iterable[Path]) -> dict[Path, Import | None]:
    """Every project file that importing ``paths`` loads, each with the import that first
    brought it in (None for the starting files): parent packages included."""
    reached: dict[Path, Import | None] = {p: None for p in paths}
    todo = list(reached)
    while todo:
        for imp in imports_of(todo.pop()):
            parts = imp.module.split(".")
            for depth in range(1, len(parts) + 1):
                dotted = ".".join(parts[:depth])
                if imp.top in PACKAGES and is_module(dotted):
                    target = module_path(dotted)
                    if target not in reached:
                        reached[target] = imp
                        todo.append(target)
    return reached


def chain(reached: dict[Path, Import | None], path: Path) -> str:
    """How ``path`` came to be loaded: the imports from a starting file to it."""
    steps: list[str] = []
    via = reached[path]
    while via is not None:
        steps.append(str(via))
        via = reached[via.path]
    return " <- ".join(steps)


def package_graph() -> dict[str, dict[str, Import]]:
    """Which top-level package imports which, each arrow with one import that draws it."""
    graph: dict[str, dict[str, Import]] = {p: {} for p in PACKAGES}
    for path in python_files():
        if path.parts[0] in PACKAGES:
            for imp in imports_of(path):
                if imp.top in PACKAGES and imp.top != path.parts[0]:
                    graph[path.parts[0]].setdefault(imp.top, imp)
    return graph


def find_cycle(graph: dict[str, dict[str, Import]]) -> list[str] | None:
    """One cycle of packages (first = last), or None when the graph has none."""
    state: dict[str, str] = {}  # "open" while on the path, "done" once explored
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                return [*path[path.index(nxt):], nxt]
            if nxt not in state and (found := visit(nxt)) is not None:
                return found
        path.pop()
        state[node] = "done"
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)) is not None:
            return found
    return None


# ---------------------------------------------------------------- the tests
def test_the_walk_sees_the_project() -> None:
    files = set(python_files())
    assert {Path("protocol/link.py"), Path("hall/controller.py"), Path("tests/test_layers.py"),
            Path("kiosk/flow.py")} <= files
    assert not any(".venv" in p.parts for p in files)
    graph = package_graph()
    assert "protocol" in graph["hall"] and "hall" in graph["bench"]  # imports are read


def test_paho_is_imported_only_by_the_link() -> None:
    users = [str(i) for p in python_files() for i in imports_of(p) if i.top == "paho"]
    assert users, "the link's own paho imports were not seen"
    assert {u.split(":")[0] for u in users} == {"protocol/link.py"}, "\n".join(users)


def test_the_packages_import_each_other_in_no_cycle() -> None:
    graph = package_graph()
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle " + " -> ".join(cycle) + ":\n" + "\n".join(
        str(graph[a][b]) for a, b in itertools.pairwise(cycle))


def test_the_cycle_finder_names_a_cycle() -> None:
    imp = Import(Path("x.py"), 1, "x")
    assert find_cycle({"a": {"b": imp}, "b": {"c": imp}, "c": {"a": imp}}) == [
        "a", "b", "c", "a"]
    assert find_cycle({"a": {"b": imp}, "b": {}, "c": {"a": imp, "b": imp}}) is None


def test_the_controller_never_loads_the_web() -> None:
    """The single writer serves no HTTP: nothing it loads imports aiohttp."""
    reached = loaded_by(package_files("hall"))
    web = [f"{i}  (loaded by: {chain(reached, p) or 'hall itself'})"
           for p in reached for i in imports_of(p) if i.top == "aiohttp"]
    assert not web, "\n".join(web)


def test_the_uis_never_load_the_hall() -> None:
    for ui in UIS:
        reached = loaded_by(package_files(ui))
        hall = [chain(reached, p) for p in reached if p.parts[0] == "hall"]
        assert not hall, f"{ui}:\n" + "\n".join(hall)


def test_hardware_libraries_only_in_hardware() -> None:
    found = [str(i) for p in python_files() for i in imports_of(p)
             if i.top in HARDWARE_LIBRARIES and p.parts[0] != "hardware"
             and p.parts[:2] != ("tests", "hardware")]
    assert not found, "\n".join(found)
    assert not HARDWARE_LIBRARIES & set(sys.stdlib_module_names)


def test_the_hall_and_the_broker_config_stand_apart() -> None:
    """broker_config reads the hall's configuration (hallconfig), never the controller; the
    controller needs nothing of the broker's generation."""
    graph = package_graph()
    assert "broker_config" not in graph["hall"], str(graph["hall"].get("broker_config"))
    assert "hall" not in graph["broker_config"], str(graph["broker_config"].get("hall"))


def test_the_protocol_stands_on_nothing_of_the_project() -> None:
    graph = package_graph()
    assert graph["protocol"] == {}, [str(i) for i in graph["protocol"].values()]
