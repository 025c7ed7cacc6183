"""Benchmark: people found / people present on group photos, and ankles on small photos (issue 20).

    python bench/bench_people.py [--json out.json]

Group photos: bench/group_photos.py (collages of scikit-image's and matplotlib's single-person photos);
the ones the detector's windows were chosen on and the held-out ones are reported apart. For each photo:
people found by the Pose Detect settings of the runner's old check (``max_people`` 1) and of the shipped
workflows (``max_people`` 16), and seconds taken.

Small photos: crops of the three source photos, detected and completed (Pose Complete Legs) at full size
and downscaled to 140 and 100 px tall; the ankle error is the distance between the small crop's completed
ankles (scaled back) and the full-size crop's, over the crop's height; "on knee" counts ankles within half
a thigh of their knee. Deterministic (no randomness); versions printed.

The pack's core is imported as ``repaint_extend`` (installed); copied into a checkout from before the
package existed (to measure it), through that checkout's ``harness/pack.py``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import platform
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _load_core() -> None:
    """Make ``repaint_extend`` importable: through harness/pack.py where it exists (the repository root
    registered under that name), else it must be importable already (an installed package)."""
    for path in (ROOT / "harness" / "pack.py",):
        if path.is_file():
            _load("pack", path).load()
            return
    import repaint_extend  # noqa: F401


def count_people(photos, detect) -> list[dict]:
    rows = []
    for name, (rgb, present) in photos.items():
        row = {"photo": name, "size": f"{rgb.shape[1]}x{rgb.shape[0]}", "present": present}
        for k in (1, 16):
            t = time.perf_counter()
            row[f"found_{k}"] = len(detect(rgb, num_poses=k)["people"])
            row[f"s_{k}"] = round(time.perf_counter() - t, 2)
        rows.append(row)
        print(
            f"{name:24s} {row['size']:>10s}  present {present:2d}  found max_people=1: {row['found_1']:2d}"
            f"  max_people=16: {row['found_16']:2d} ({row['s_16']:.1f} s)",
            flush=True,
        )
    return rows


def ankle_errors(sources, detect, complete_legs, person_points, kp) -> list[dict]:
    import numpy as np
    from PIL import Image

    crops = {  # (x0, y0, x1, y1) on the source photo
        "camera_full": ("camera", (0, 0, 512, 512)),
        "camera_knees": ("camera", (60, 0, 460, 440)),
        "astronaut_full": ("astronaut", (0, 0, 512, 512)),
        "astronaut_wide": ("astronaut", (0, 40, 512, 400)),
        "grace_full": ("grace_hopper", (0, 0, 512, 600)),
        "grace_wide": ("grace_hopper", (0, 150, 512, 520)),
    }
    ank, knee, hip = (
        [kp["right_ankle"], kp["left_ankle"]],
        [kp["right_knee"], kp["left_knee"]],
        kp["right_hip"],
    )
    rows = []
    for name, (src, (x0, y0, x1, y1)) in crops.items():
        crop = np.ascontiguousarray(sources[src][y0:y1, x0:x1])
        h, w = crop.shape[:2]
        ref = complete_legs(detect(crop))
        if not ref["people"]:
            print(f"{name}: nobody at full size")
            continue
        ref_pts = person_points(ref["people"][0])
        for height in (140, 100):
            s = height / h
            small = np.asarray(Image.fromarray(crop).resize((max(1, round(w * s)), height), Image.LANCZOS))
            frame = complete_legs(detect(small))
            row = {"crop": name, "size": f"{small.shape[1]}x{small.shape[0]}"}
            if not frame["people"]:
                row.update(found=0)
            else:
                p = person_points(frame["people"][0])
                err = np.hypot(*(p[ank, :2] / s - ref_pts[ank, :2]).T) / h
                thigh = np.hypot(*(p[knee[0], :2] - p[hip, :2]))
                on_knee = int((np.hypot(*(p[ank, :2] - p[knee, :2]).T) < 0.5 * thigh).sum())
                row.update(found=1, ankle_error=round(float(err.max()), 3), on_knee=on_knee)
            rows.append(row)
            print(f"{name:16s} {row['size']:>8s}  {row}", flush=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = ap.parse_args()
    _load_core()
    import mediapipe
    import numpy

    from bench import group_photos as gp
    from repaint_extend.pose import complete_legs, detect, person_points
    from repaint_extend.pose.keypoints import KP

    print(f"python {platform.python_version()}, numpy {numpy.__version__}, mediapipe {mediapipe.__version__}")
    print("-- photos the windows were chosen on")
    tuned = count_people(gp.photos(), detect)
    print("-- held out")
    held = count_people(gp.held_out(), detect) if hasattr(gp, "held_out") else []
    for label, rows in (("chosen on", tuned), ("held out", held)):
        for k in (1, 16):
            found = sum(min(r[f"found_{k}"], r["present"]) for r in rows)
            extra = sum(max(0, r[f"found_{k}"] - r["present"]) for r in rows)
            print(
                f"{label}, max_people={k}: {found} of {sum(r['present'] for r in rows)} found, {extra} extra"
            )
    print("-- small photos: completed ankles vs the same crop at full size (error / crop height)")
    small = ankle_errors(gp.sources(), detect, complete_legs, person_points, KP)
    if args.json:
        args.json.write_text(json.dumps({"tuned": tuned, "held_out": held, "small": small}, indent=1))


if __name__ == "__main__":
    main()
