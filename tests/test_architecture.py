"""The package's shape, checked so it cannot rot: no import cycles, imports flow one way through
the pipeline's stages, and third-party ties stay where they belong (click in the CLI, boto3 in
the stores). Every import counts, including those inside functions."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "pcpr_publish"

#: Layer of each top-level part of the package, in the order data flows.
LAYERS: dict[str, str] = {
    "errors": "leaf", "notices": "leaf", "common": "leaf", "ocpi": "leaf", "config": "leaf",
    "reliability": "leaf",
    "read": "read",
    "pipeline": "pipeline",
    "profiles": "pipeline",
    "render": "render",
    "stores": "stores",
    "state": "state",
    "deploy": "deploy",
    "engine": "engine",
    "commands": "commands",
    "sample": "tools", "schemas": "tools",
    "cli": "cli", "__main__": "cli",
}

#: Which layers each layer may import (its own included). Stages import the stages before them;
#: the stores know nothing of what is stored; leaves know nothing of anything above them.
ALLOWED: dict[str, set[str]] = {
    "leaf": {"leaf"},
    "read": {"leaf", "read"},
    "pipeline": {"leaf", "read", "pipeline"},
    "render": {"leaf", "read", "pipeline", "render"},
    "stores": {"leaf", "stores"},
    "state": {"leaf", "state"},
    "deploy": {"leaf", "render", "stores", "deploy"},
    "engine": {"leaf", "read", "pipeline", "render", "stores", "state", "deploy", "engine"},
    "commands": {"leaf", "read", "pipeline", "render", "stores", "state", "deploy", "engine",
                 "commands"},
    "tools": {"leaf", "read", "tools"},
    "cli": {"leaf", "read", "pipeline", "render", "stores", "state", "deploy", "engine", "commands",
            "tools", "cli"},
}

#: Third-party packages that only one part of the package may use.
CONFINED = {"click": "cli", "boto3": "stores", "botocore": "stores", "psycopg": "state",
            "sqlite3": "state"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports_of(name: str) -> list[tuple[str, int]]:
    """(imported module or package, line) for every import in the module, resolved."""
    path = MODULES[name]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            for alias in node.names:
                sub = f"{mod}.{alias.name}"
                out.append((sub if sub in MODULES else mod, node.lineno))
    return out


def layer_of(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "pcpr_publish":
        return None
    if len(parts) == 1:
        return "api"
    return LAYERS.get(parts[1], "unassigned")


def internal_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for name in MODULES:
        for target, _line in imports_of(name):
            if target in MODULES and target != name and target != "pcpr_publish":
                graph[name].add(target)
    return graph


def test_every_part_of_the_package_has_a_layer() -> None:
    unassigned = sorted(n for n in MODULES if layer_of(n) == "unassigned")
    assert unassigned == [], f"give these a layer in tests/test_architecture.py: {unassigned}"


def test_there_are_no_import_cycles() -> None:
    graph = internal_graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(MODULES):
        if v not in index:
            visit(v)
    assert cycles == []


def test_imports_flow_one_way_through_the_stages() -> None:
    wrong = []
    for name in MODULES:
        here = layer_of(name)
        if here == "api":
            continue  # the package's public entry point re-exports from every layer
        for target, line in imports_of(name):
            there = layer_of(target)
            if there is None or target == name:
                continue
            if there == "api":
                # Only the version number may be taken from the package itself.
                continue
            if there not in ALLOWED[here]:
                wrong.append(f"{name}:{line} ({here}) imports {target} ({there})")
    assert wrong == []


def test_the_package_root_gives_only_its_version_to_the_modules_below_it() -> None:
    wrong = []
    for name in MODULES:
        if name == "pcpr_publish":
            continue
        tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "pcpr_publish" and not node.level:
                names = {a.name for a in node.names} - {"__version__"}
                names -= {n for n in names if f"pcpr_publish.{n}" in MODULES}
                if names:
                    wrong.append(f"{name}:{node.lineno} imports {sorted(names)} from the package root")
    assert wrong == []


@pytest.mark.parametrize("package,layer", sorted(CONFINED.items()))
def test_third_party_ties_are_confined(package: str, layer: str) -> None:
    users = sorted({name for name in MODULES for target, _ in imports_of(name)
                    if target == package or target.startswith(package + ".")})
    assert users, f"nothing imports {package}: drop it from CONFINED"
    assert [u for u in users if layer_of(u) != layer] == []


def test_the_library_entry_point_exports_what_the_docs_list() -> None:
    import pcpr_publish

    docs = (PACKAGE.parent / "docs" / "library.md").read_text(encoding="utf-8")
    for name in pcpr_publish.__all__:
        assert getattr(pcpr_publish, name) is not None
        if name != "__version__":
            assert f"`{name}" in docs, f"docs/library.md does not mention {name}"
    with pytest.raises(AttributeError):
        pcpr_publish.no_such_name  # noqa: B018
