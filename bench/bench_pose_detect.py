"""Benchmark: MediaPipe pose detection, ms per 512x512 image once the model is loaded.

    .venv/bin/python -m bench.bench_pose_detect [--repeat 20] [--threads N]

Goal: <= 50 ms per 512^2 image on CPU.
"""

import argparse
import os
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument(
        "--threads", type=int, default=None, help="OMP/XNNPACK threads hint (sets OMP_NUM_THREADS)"
    )
    args = ap.parse_args()
    if args.threads:
        os.environ["OMP_NUM_THREADS"] = str(args.threads)

    import numpy as np
    import skimage.data
    from PIL import Image

    from repaint_extend.pose import detect

    images = {
        "astronaut": skimage.data.astronaut(),
        "camera": np.repeat(skimage.data.camera()[:, :, None], 3, axis=2),
    }
    images = {k: np.asarray(Image.fromarray(v).resize((512, 512))) for k, v in images.items()}
    t0 = time.perf_counter()
    detect(images["astronaut"])
    print(f"model load + first detection: {(time.perf_counter() - t0) * 1000:.0f} ms")
    for name, img in images.items():
        for _ in range(3):
            detect(img)
        times = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            detect(img)
            times.append((time.perf_counter() - t) * 1000)
        print(
            f"{name} 512x512: median {statistics.median(times):.1f} ms, min {min(times):.1f} ms, "
            f"mean {statistics.fmean(times):.1f} ms over {args.repeat} runs (goal <= 50 ms)"
        )


if __name__ == "__main__":
    main()
