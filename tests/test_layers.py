"""The package's imports follow its layers: a module imports only from its own layer or the layers below, and
the folders form no loop. Read from the source with ``ast`` (nothing is imported), deferred imports included."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "lib" / "occface"

# low -> high. A top-level module is a unit of its own; a folder is one unit. Papers may import each other's
# registration (a compared method) but no folder loop may form.
LAYERS: list[set[str]] = [
    {"paths", "profiles", "runtime", "locks", "tables", "plots", "results", "claims", "checks", "train", "registry", "knobs",
     "progress", "__init__"},
    {"faces"},
    {"pretrained"},
    {"nn"},
    {"eval"},
    {"baselines"},
    {"papers"},
    {"methods"},         # imports every registering module: above the papers and baselines it lists
    {"studies"},
    {"widgets", "notebook", "verify", "runner", "executed", "pretrain"},
]
LAYER_OF = {unit: i for i, units in enumerate(LAYERS) for unit in units}


def unit_of(module: str) -> str:
    """``occface.faces.align`` -> ``faces``; ``occface.papers.rla.model`` -> ``papers.rla``."""
    parts = module.split(".")[1:]
    if not parts:
        return "__init__"
    if parts[0] == "papers" and len(parts) > 1:
        return "papers." + parts[1]
    return parts[0]


def layer(unit: str) -> int:
    return LAYER_OF[unit.split(".")[0]]


def module_name(path: Path, package: Path = PACKAGE) -> str:
    rel = path.relative_to(package.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imported(path: Path, root: Path = PACKAGE) -> set[str]:
    """Every ``occface`` module ``path`` imports, absolute or relative, at any depth of the file."""
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "occface"}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "occface":
                continue
            found.add(target)
            # `from . import x` / `from ..nn import blocks`: the names may be modules
            found |= {f"{target}.{a.name}" for a in node.names
                      if (root.parent / Path(*f"{target}.{a.name}".split("."))).with_suffix(".py").exists()
                      or (root.parent / Path(*f"{target}.{a.name}".split("."))).is_dir()}
    return found


def edges(root: Path = PACKAGE) -> set[tuple[str, str, str]]:
    out = set()
    for path in root.rglob("*.py"):
        source = unit_of(module_name(path, root))
        for target in imported(path, root):
            target_unit = unit_of(target)
            if target_unit != source:
                out.add((source, target_unit, str(path.relative_to(root))))
    return out


def test_every_unit_of_the_package_has_a_layer():
    units = {unit_of(module_name(p)).split(".")[0] for p in PACKAGE.rglob("*.py")}
    assert units <= set(LAYER_OF), f"give these a layer in tests/test_layers.py: {sorted(units - set(LAYER_OF))}"


def upward_imports(root: Path = PACKAGE) -> list[str]:
    return sorted(f"{where}: {source} -> {target}" for source, target, where in edges(root)
                  if layer(target) > layer(source))


def folder_loops(root: Path = PACKAGE) -> list[str]:
    graph: dict[str, set[str]] = {}
    for source, target, _ in edges(root):
        graph.setdefault(source, set()).add(target)

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for nxt in graph.get(start, ()):
            if nxt == goal or (nxt not in seen and reaches(nxt, goal, seen | {nxt})):
                return True
        return False

    return sorted(f"{a} -> {b} -> ... -> {a}" for a in graph for b in graph[a] if reaches(b, a, {b}))


def test_no_import_runs_up_the_layers():
    upward = upward_imports()
    assert not upward, "imports that run back up the layers:\n" + "\n".join(upward)


def test_folders_form_no_loop():
    loops = folder_loops()
    assert not loops, "folder loops:\n" + "\n".join(loops)


def test_the_method_registry_imports_no_module_by_name():
    text = (PACKAGE / "registry.py").read_text() + (PACKAGE / "methods.py").read_text()
    assert "importlib" not in text and "__import__" not in text


def test_the_checker_finds_an_upward_import_and_a_loop_it_is_shown(tmp_path):
    package = tmp_path / "occface"
    for name, text in {"__init__.py": "", "faces/__init__.py": "", "nn/__init__.py": "",
                       "faces/parsing.py": "from ..nn import blocks\n",  # faces -> nn runs up
                       "nn/blocks.py": "from ..faces import align\n", "faces/align.py": ""}.items():
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        (package / name).write_text(text)
    assert upward_imports(package) == ["faces/parsing.py: faces -> nn"]
    assert folder_loops(package) == ["faces -> nn -> ... -> faces", "nn -> faces -> ... -> nn"]
