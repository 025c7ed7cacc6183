"""What ComfyUI imports is what it runs: training code stays out of the runtime; one list of dependencies."""

import re
import subprocess
import sys
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[2]
RUNTIME = ["__init__.py", "nodes", "samplers", "pose", "outpaint", "pixel", "caption"]
"""What ComfyUI loads: the root's __init__.py imports nodes/, which imports the core packages."""


def _runtime_files():
    for entry in RUNTIME:
        path = ROOT / entry
        yield from [path] if path.is_file() else sorted(path.rglob("*.py"))


def test_the_runtime_never_imports_training_code():
    pattern = re.compile(r"^\s*(from\s+\S*training\S*\s+import|import\s+\S*training)|\btraining\.\w+\(", re.M)
    offenders = [str(p.relative_to(ROOT)) for p in _runtime_files() if pattern.search(p.read_text())]
    assert offenders == []
    moved = ("train_ddpm.py", "check_photos.py", "photos.py", "digits.py")
    assert not [name for name in moved if (ROOT / "pixel" / name).exists()]  # they live in training/


def test_comfyui_loads_no_training_module(comfy):
    loaded = [name for name in sys.modules if "repaint-extend" in name]
    assert any(name.endswith(".nodes") for name in loaded)  # the pack as ComfyUI loaded it
    assert not [name for name in loaded if ".training" in name]


def test_the_training_script_runs_from_the_repository_root():
    """``python training/train_ddpm.py`` runs as ``training.train_ddpm`` (relative imports),
    without the repository root on sys.path."""
    done = subprocess.run(
        [sys.executable, "training/train_ddpm.py", "--help"], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "--dataset" in done.stdout


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
