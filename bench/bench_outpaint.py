"""Benchmark: tiled outpainting, time per tile and peak memory as the canvas grows 1 -> 2 -> 4 tiles.

    .venv/bin/python bench/bench_outpaint.py [--tile 512] [--work 8] [--repeats 3] [--threads 1]

The per-tile sampler is a stand-in whose cost is fixed per tile: ``--work`` passes of a small 3x3
convolution stack over the tile (a random "denoiser"), so the figures isolate the driver (crop, noise
mask, feather weights, write-back, final composite). The canvases keep 512 known rows at the top (the
photo) and add unknown rows below / columns to the right:

    1 tile : 512 x 768  (W x H)    2 tiles: 512 x 1024 (one column)    4 tiles: 960 x 1024 (2 x 2)

Goals (issue 5): time linear in the number of tiles (time per tile flat); peak memory flat within
+-10 % from 1 to 4 tiles. Memory is counted exactly, in two parts: torch CPU storages allocated during
``outpaint`` (``bench/memory.py``), minus the returned canvas that any implementation must
allocate; and numpy buffers (``tracemalloc``). Prints a table and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import time
import tracemalloc
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent

CANVASES = {1: (768, 512), 2: (1024, 512), 4: (1024, 960)}  # tiles -> (H, W) px


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tile", type=int, default=512)
    parser.add_argument("--work", type=int, default=8, help="conv passes per tile (the stand-in's cost)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    from bench.memory import TorchAllocations
    from repaint_extend.outpaint import outpaint, plan_tiles

    scale = args.tile / 512
    canvases = {n: (int(h * scale) // 8 * 8, int(w * scale) // 8 * 8) for n, (h, w) in CANVASES.items()}
    known_rows = int(512 * scale) // 8 * 8
    conv = torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.Tanh(), torch.nn.Conv2d(8, 3, 3, padding=1)
    )
    for p in conv.parameters():
        p.requires_grad_(False)

    def sampler(image, noise_mask, tile):
        x = image.permute(0, 3, 1, 2)
        for _ in range(args.work):
            x = torch.sigmoid(conv(x))
        return x.permute(0, 2, 3, 1)

    def null_sampler(image, noise_mask, tile):
        return image * 0.5 + 0.25

    def inputs(n):
        H, W = canvases[n]
        canvas = torch.rand(1, H, W, 3, generator=torch.Generator().manual_seed(n))
        mask = torch.zeros(1, H, W)
        mask[:, known_rows:] = 1
        return canvas, mask

    kw = dict(tile=args.tile, overlap=64, feather=32)
    rows = []
    for n in canvases:
        canvas, mask = inputs(n)
        plan = plan_tiles(canvas.shape[1:3], mask, args.tile, 64)
        assert len(plan) == n, (n, len(plan))
        with TorchAllocations():
            outpaint(canvas, mask, sampler, **kw)  # warm-up (first-call imports and caches)
        times = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            outpaint(canvas, mask, sampler, **kw)
            times.append(time.perf_counter() - t0)
        t_sampler = []
        for t in plan:  # the stand-in alone, for the driver's share
            t0 = time.perf_counter()
            sampler(canvas[:, t.rows, t.cols], None, t)
            t_sampler.append(time.perf_counter() - t0)
        with TorchAllocations() as mem:
            outpaint(canvas, mask, sampler, **kw)
        with TorchAllocations() as mem_null:  # the driver alone: a sampler that allocates one result
            outpaint(canvas, mask, null_sampler, **kw)
        null_times = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            outpaint(canvas, mask, null_sampler, **kw)
            null_times.append(time.perf_counter() - t0)
        tracemalloc.start()
        outpaint(canvas, mask, sampler, **kw)
        numpy_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        canvas_bytes = canvas.numel() * canvas.element_size()
        rows.append(
            dict(
                tiles=n,
                canvas_wh=[canvas.shape[2], canvas.shape[1]],
                seconds=min(times),
                seconds_per_tile=min(times) / n,
                sampler_seconds_per_tile=sum(t_sampler) / n,
                torch_peak_mib=mem.peak_bytes / 2**20,
                torch_peak_minus_canvas_mib=(mem.peak_bytes - canvas_bytes) / 2**20,
                canvas_mib=canvas_bytes / 2**20,
                numpy_peak_mib=numpy_peak / 2**20,
                driver_seconds_per_tile=min(null_times) / n,
                driver_torch_peak_minus_canvas_mib=(mem_null.peak_bytes - canvas_bytes) / 2**20,
            )
        )

    base = rows[0]
    print(
        f"tile {args.tile}px, overlap 64, feather 32, stand-in: {args.work} conv passes, {args.threads} thread(s)"
    )
    print(
        "tiles  canvas      s/tile  (sampler)  ratio | torch peak  -canvas  ratio | numpy peak | total-canvas ratio"
    )
    for r in rows:
        r["time_per_tile_ratio"] = r["seconds_per_tile"] / base["seconds_per_tile"]
        r["torch_extra_ratio"] = r["torch_peak_minus_canvas_mib"] / base["torch_peak_minus_canvas_mib"]
        r["total_minus_canvas_mib"] = r["torch_peak_minus_canvas_mib"] + r["numpy_peak_mib"]
        r["total_ratio"] = r["total_minus_canvas_mib"] / (
            base["torch_peak_minus_canvas_mib"] + base["numpy_peak_mib"]
        )
        print(
            f"{r['tiles']:>5}  {r['canvas_wh'][0]:>4}x{r['canvas_wh'][1]:<5}  {r['seconds_per_tile']:.3f}  "
            f"({r['sampler_seconds_per_tile']:.3f})    {r['time_per_tile_ratio']:.2f} | "
            f"{r['torch_peak_mib']:7.1f} MiB  {r['torch_peak_minus_canvas_mib']:5.1f}   {r['torch_extra_ratio']:.2f} | "
            f"{r['numpy_peak_mib']:6.2f} MiB | {r['total_minus_canvas_mib']:5.1f} MiB  {r['total_ratio']:.2f}"
        )
    print("driver alone (sampler = one multiply-add): tiles, s/tile, torch peak beyond the canvas")
    for r in rows:
        print(
            f"{r['tiles']:>5}  {r['driver_seconds_per_tile']:.3f} s  {r['driver_torch_peak_minus_canvas_mib']:.2f} MiB"
            f"  ratio {r['driver_torch_peak_minus_canvas_mib'] / base['driver_torch_peak_minus_canvas_mib']:.2f}"
        )
    print(json.dumps({"bench": "outpaint", "tile": args.tile, "work": args.work, "rows": rows}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
