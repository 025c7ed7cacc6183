"""Integration check: install.py in a throwaway venv that already has opencv-contrib-python keeps it.

    python bench/bench_install.py [--install-py PATH] [--keep DIR]

Makes a fresh venv (``python -m venv``), installs ``opencv-contrib-python`` from PyPI into it, runs the
pack's ``install.py`` (or ``--install-py``, e.g. an older checkout's) with that venv's Python, and checks
that ``cv2.ximgproc.guidedFilter`` still exists, that one OpenCV distribution is installed, and that the
pack's pose bundle loads with the installed mediapipe. Prints what pip installed and the seconds taken;
exit 1 when ``cv2.ximgproc`` is gone. Needs PyPI (several minutes).

torch and torchvision (gigabytes) are not downloaded: the venv sees this Python's copies, and their
dependencies, through a ``.pth`` file listing a folder of links to them (pip then counts them as installed,
as in a ComfyUI venv, which always has torch). Nothing else of this Python is visible to the venv.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEEDED = ("torch", "torchvision")


def _closure(names) -> list[importlib.metadata.Distribution]:
    """The distributions ``names`` and everything they require (installed ones only)."""
    seen, todo, out = set(), list(names), []
    while todo:
        name = re.sub(r"[-_.]+", "-", todo.pop()).lower()
        if name in seen:
            continue
        seen.add(name)
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            continue
        out.append(dist)
        for req in dist.requires or []:
            if "extra ==" not in req:
                todo.append(re.split(r"[<>=!~;\[ ()]", req.strip(), maxsplit=1)[0])
    return out


def _seed(folder: Path) -> list[str]:
    """Links in ``folder`` to the top-level entries of torch, torchvision and their dependencies."""
    folder.mkdir(parents=True)
    names = []
    for dist in _closure(SEEDED):
        names.append(f"{dist.metadata['Name']}=={dist.version}")
        tops = {Path(f).parts[0] for f in dist.files or [] if not str(f).startswith("..")}
        for top in tops:
            source = Path(dist.locate_file(top))
            if source.exists() and not (folder / top).exists():
                (folder / top).symlink_to(source)
    return names


def _run(cmd, **kwargs) -> subprocess.CompletedProcess:
    print("$", " ".join(str(c) for c in cmd), flush=True)
    return subprocess.run(cmd, text=True, capture_output=True, check=False, **kwargs)


CHECK = """
import importlib.metadata, json, cv2
gui = [line.strip() for line in cv2.getBuildInformation().splitlines() if line.strip().startswith("GUI")]
dists = sorted(d.metadata["Name"] for d in importlib.metadata.distributions() if "opencv" in d.metadata["Name"].lower())
print(json.dumps({"ximgproc": hasattr(cv2, "ximgproc") and hasattr(cv2.ximgproc, "guidedFilter"),
                  "cv2": cv2.__version__, "gui": gui[:1], "opencv_distributions": dists}))
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--install-py", type=Path, default=ROOT / "install.py")
    ap.add_argument("--keep", type=Path, default=None, help="make the venv here and keep it")
    args = ap.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="install_check_"))
    t0 = time.perf_counter()
    try:
        venv = work / "venv"
        base = Path(sys.base_prefix) / "bin" / f"python{sys.version_info.major}.{sys.version_info.minor}"
        done = _run([str(base if base.exists() else sys.executable), "-m", "venv", str(venv)])
        assert done.returncode == 0, done.stderr
        python = venv / "bin" / "python"
        site = Path(
            _run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip()
        )
        seeded = _seed(work / "seed")
        (site / "zz_seed.pth").write_text(str(work / "seed") + "\n")
        print(f"seeded (linked, not downloaded): {', '.join(seeded)}")
        done = _run([python, "-m", "pip", "install", "-q", "opencv-contrib-python"])
        assert done.returncode == 0, done.stderr[-3000:]
        before = json.loads(_run([python, "-c", CHECK]).stdout)
        print("before install.py:", before)
        env = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1")
        done = _run([python, str(args.install_py)], env=env, cwd=args.install_py.parent)
        print(done.stdout[-3000:], done.stderr[-3000:])
        assert done.returncode == 0, "install.py failed"
        after = json.loads(_run([python, "-c", CHECK]).stdout)
        print("after install.py:", after)
        bundle = sorted(args.install_py.parent.rglob("pose_landmarker_full.task"))[0]
        probe = "import sys\nfrom mediapipe.tasks.python import BaseOptions, vision\n"
        probe += "vision.PoseLandmarker.create_from_options(vision.PoseLandmarkerOptions("
        probe += (
            "base_options=BaseOptions(model_asset_path=sys.argv[1]))).close(); print('pose bundle loads')"
        )
        print(_run([python, "-c", probe, str(bundle)]).stdout.strip() or "pose bundle does NOT load")
        print(f"{time.perf_counter() - t0:.0f} s")
        ok = after["ximgproc"] and after["opencv_distributions"] == ["opencv-contrib-python"]
        print("cv2.ximgproc survives" if ok else "cv2.ximgproc is GONE (or a second OpenCV was installed)")
        return 0 if ok else 1
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
