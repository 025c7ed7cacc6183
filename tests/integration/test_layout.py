"""The house: one named package that ComfyUI runs, imports that flow one way, no import circle, no edits of
the import path, one copy of the pack in a process, one list of dependencies, and a README that lists the
tree."""

import ast
import re
import subprocess
import sys
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[2]
CORE = ("checks", "samplers", "pose", "outpaint", "pixel", "caption")
"""The host-independent core packages of ``repaint_extend`` (pure torch / numpy)."""
HOST = {
    "comfy",
    "comfy_api",
    "comfy_extras",
    "comfy_execution",
    "nodes",
    "folder_paths",
    "server",
    "execution",
}
HOST |= {"latent_preview", "node_helpers"}
"""ComfyUI's top-level modules."""
OURS = ("repaint_extend", "runner", "bench", "training", "support", "tests")


def _python_files() -> list[Path]:
    tracked = subprocess.run(
        ["git", "ls-files", "*.py"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return [ROOT / line for line in tracked.stdout.splitlines()]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[:2] == ["tests", "support"]:
        parts = ["support", *parts[2:]]
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts) or "<root>"


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports, at any depth (inside functions too), relative imports resolved."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}
    return found


def _graph() -> dict[str, set[str]]:
    """Our modules -> the modules of ours they import."""
    files = {_module_name(p): p for p in _python_files()}
    return {name: {m for m in _imports(path) if m in files and m != name} for name, path in files.items()}


def test_no_module_edits_the_import_path():
    offenders = [str(p.relative_to(ROOT)) for p in _python_files() if "sys" + ".path" in p.read_text()]
    assert offenders == []


def test_imports_flow_one_way():
    """core -> adapters -> nodes inside the pack; the pack imports nothing of the runner, tests, bench or
    training; the core imports no ComfyUI."""
    problems = []
    for path in _python_files():
        name = _module_name(path)
        if not name.startswith("repaint_extend"):
            continue
        top = {m.split(".")[0] for m in _imports(path)}
        layer = name.split(".")[1] if name.count(".") else ""
        for target in _imports(path):
            if target.split(".")[0] in OURS[1:]:
                problems.append(f"{name} imports {target}")
            parts = target.split(".")
            if parts[0] == "repaint_extend" and len(parts) > 1:
                if layer in CORE and parts[1] in ("adapters", "nodes"):
                    problems.append(f"{name} (core) imports {target}")
                if layer == "adapters" and parts[1] == "nodes":
                    problems.append(f"{name} (adapters) imports {target}")
        if layer in CORE and top & HOST:
            problems.append(f"{name} (core) imports ComfyUI: {sorted(top & HOST)}")
    assert problems == []


def test_no_import_circle():
    graph = _graph()
    state: dict[str, int] = {}
    circles = []

    def visit(node, stack):
        state[node] = 1
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                circles.append(" -> ".join([*stack[stack.index(target) :], target]))
            elif target not in state:
                visit(target, [*stack, target])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    # a package's __init__ importing its own submodules (and they their siblings) is not a circle
    circles = [c for c in circles if not _within_one_package(c)]
    assert circles == []


def _within_one_package(circle: str) -> bool:
    modules = circle.split(" -> ")
    packages = {m for m in modules if any(other.startswith(m + ".") for other in modules)}
    return bool(packages) and all(any(m == p or m.startswith(p + ".") for p in packages) for m in modules)


def test_the_packages_import_by_name_from_any_folder(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", "import repaint_extend, runner, bench, training, support; print('ok')"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]


def test_comfyui_runs_the_one_copy_that_the_runner_and_tests_import(comfy):
    """ComfyUI loads the pack from ``custom_nodes/comfyui-repaint-extend`` (a hyphen in the folder name); the
    node classes it runs are those of ``import repaint_extend``, so ``isinstance`` works across both."""
    import nodes

    import repaint_extend.nodes.outpaint
    from repaint_extend.adapters.sampler import RePaintKSampler

    loaded = [name for name in sys.modules if "comfyui-repaint-extend" in name]
    assert loaded and all("-" in Path(name).name for name in loaded)  # the folder, as ComfyUI names it
    assert nodes.NODE_CLASS_MAPPINGS["OutpaintTiled"] is repaint_extend.nodes.outpaint.OutpaintTiled
    sampler = nodes.NODE_CLASS_MAPPINGS["RePaintSampler"].execute(2, 2, 1.0, "fresh").result[0]
    assert isinstance(sampler, RePaintKSampler)
    assert not [
        name for name in sys.modules if name.startswith("repaint_extend.training") or name == "training"
    ]


def _names(lines):
    return {re.split(r"[<>=!~; \[]", line.strip(), maxsplit=1)[0].lower() for line in lines if line.strip()}


def test_pyproject_dependencies_are_requirements_txt_plus_torch():
    """ComfyUI-Manager installs requirements.txt (torch comes with ComfyUI); the registry reads
    pyproject.toml. Both must list the same packages, with the same pins."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    lines = [line.split("#")[0].strip() for line in (ROOT / "requirements.txt").read_text().splitlines()]
    requirements = [line for line in lines if line]
    assert sorted(project) == sorted([*requirements, "torch"])
    nodeps = _names(
        line.split("#")[0] for line in (ROOT / "requirements-nodeps.txt").read_text().splitlines()
    )
    assert not nodeps & _names(project)  # mediapipe only with --no-deps


def test_the_readme_layout_table_lists_every_top_level_entry():
    """Every tracked top-level folder and file (besides LICENSE, README.md, .gitignore) has a row in the
    README's "Layout" table, and every row names something that exists."""
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    top = {line.split("/")[0] + ("/" if "/" in line else "") for line in tracked.splitlines()}
    top -= {"LICENSE", "README.md", ".gitignore"}
    section = (ROOT / "README.md").read_text().split("\n## Layout\n", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[1] for line in section.splitlines() if line.startswith("| `")]
    listed = {name for cell in rows for name in re.findall(r"`([^`]+)`", cell)}
    assert listed == top
