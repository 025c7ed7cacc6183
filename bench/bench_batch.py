"""Benchmark (not a test): photos per minute through ComfyUI servers, 1 server vs 2, in one run.

    .venv/bin/python bench/bench_batch.py [--photos 8] [--steps 5] [--rounds 2] [--json PATH]

Starts two ComfyUI servers (``main.py --cpu``) on loopback, warms each with one photo, then runs
``scripts/run_workflow.py extend_legs --server ...`` on the same photos with server A alone and with
A and B, alternating rounds so that machine drift hits both sides. Photos: camera.png crops (96 px,
4 demo tiles each, the test suite's), under new names (so new seeds) for every batch. Both servers share this machine's cores, so 2 servers can only
help where one server leaves cores idle (uploads, downloads, Python overhead between prompts); with
one server per GPU machine the rate adds up per machine (see the README).
"""

from __future__ import annotations

import argparse
import functools
import json
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNNER = ROOT / "scripts" / "run_workflow.py"
CROPS = [(128, 0, 384, 256), (160, 0, 416, 320)]  # completed legs fit 128 x 128


def photos(folder: Path, count: int, prefix: str) -> list[Path]:
    """``count`` camera.png crops named ``{prefix}_{i}.png``: a new name is a new seed, so that no server
    answers from ComfyUI's cache of an earlier, identical prompt."""
    import skimage
    from PIL import Image

    camera = Image.open(Path(skimage.data.__file__).parent / "camera.png").convert("RGB")
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        path = folder / f"{prefix}_{i:03d}.png"
        camera.crop(CROPS[i % len(CROPS)]).resize((96, 96)).save(path)
        paths.append(path)
    return paths


def run(servers: list[str], images: list[Path], out: Path, steps: int) -> float:
    """Seconds for one batch of ``images`` over ``servers`` (wall clock of the runner)."""
    command = [
        sys.executable,
        str(RUNNER),
        "extend_legs",
        "--out",
        str(out),
        "--steps",
        str(steps),
        "--force",
    ]
    for url in servers:
        command += ["--server", url]
    command += ["--image", *map(str, images)]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"batch failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    if len(images) > 1:
        summary = json.loads((out / "summary.json").read_text())
        assert summary["counts"]["done"] == len(images), summary["counts"]
        per_photo = sorted(row["seconds"] for row in summary["photos"])
        print(f"  per photo on its server: {', '.join(f'{s:.1f}' for s in per_photo)} s", flush=True)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--photos", type=int, default=8)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    import support

    from runner import host as comfy_host

    work = Path(tempfile.mkdtemp(prefix="bench-batch-"))
    dirs = [work / "server_a", work / "server_b"]
    for folder in dirs:
        folder.mkdir()
    with ThreadPoolExecutor(2) as pool:
        servers = list(
            pool.map(functools.partial(comfy_host.start_server, extra_nodes=support.CUSTOM_NODES), dirs)
        )
    urls = [url for _, url, _ in servers]
    try:
        for i, url in enumerate(urls):  # warm-up: models loaded, first-prompt costs paid
            run([url], photos(work / "warm", 1, f"warm{i}"), work / f"warm{i}", args.steps)
        times: dict[str, list[float]] = {"1 server": [], "2 servers": []}
        for round_ in range(args.rounds):
            order = ["1 server", "2 servers"] if round_ % 2 == 0 else ["2 servers", "1 server"]
            for label in order:
                chosen = urls[:1] if label == "1 server" else urls
                name = f"r{round_}s{len(chosen)}"
                images = photos(work / name, args.photos, name)
                seconds = run(chosen, images, work / f"out_{name}", args.steps)
                times[label].append(seconds)
                print(f"round {round_ + 1}, {label}: {args.photos} photos in {seconds:.1f} s", flush=True)
    finally:
        for process, _, log in servers:
            comfy_host.stop_server(process, log)
        shutil.rmtree(work, ignore_errors=True)
    rate = {label: 60 * args.photos / min(values) for label, values in times.items()}
    print(
        f"photos per minute (best of {args.rounds}): 1 server {rate['1 server']:.2f}, 2 servers "
        f"{rate['2 servers']:.2f}; ratio 2/1 = {rate['2 servers'] / rate['1 server']:.2f}"
    )
    if args.json:
        args.json.write_text(
            json.dumps({"photos": args.photos, "seconds": times, "per_minute": rate}, indent=2)
        )


if __name__ == "__main__":
    main()
