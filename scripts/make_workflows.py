"""Write the shipped UI workflows (workflows/*.json): runner/shipped.py lists them, the graph builders in
runner/graphs.py make them.

    .venv/bin/python scripts/make_workflows.py

Each file loads in ComfyUI by drag and drop and is listed among the pack's templates (ComfyUI serves a
pack's ``workflows/`` folder at /workflow_templates). Run this after changing a builder; the tests check
that every file loads, validates and runs, and that each is what this script writes.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    from runner import host as comfy_host
    from runner import shipped

    comfy_host.boot(tempfile.mkdtemp(prefix="make-workflows-"))
    out_dir = ROOT / "workflows"
    out_dir.mkdir(exist_ok=True)
    for name in shipped.WORKFLOWS:
        workflow = shipped.build(name)
        (out_dir / f"{name}.json").write_text(shipped.text(workflow))
        print(f"wrote workflows/{name}.json ({len(workflow['nodes'])} nodes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
