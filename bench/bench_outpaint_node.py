"""Benchmark: the Outpaint (Tiled) node on an SD1.5-sized model, time per tile and peak memory, 1 -> 4 tiles.

    .venv/bin/python bench/bench_outpaint_node.py [--size sd15|tiny] [--steps 2] [--threads 1]

Where ``bench_outpaint.py`` isolates the tiling driver with a stand-in sampler, this runs the whole node
(``OutpaintTiled.execute``) inside ComfyUI on randomly initialised models of SD1.5's real size
(``tests/support/tiny_models.py``, ``--size sd15``: UNet 860M parameters, VAE with 128 base channels, an
SD1.5-shaped OpenPose-style ControlNet): per tile one VAE encode, ``--steps`` RePaint steps with
jump_length = jump_n_sample = 1 (one model call each, cfg 2 so cond and uncond in one batch of 2), the
ControlNet on the tile's crop of the hint, one VAE decode. No pretrained weights exist here, so the
pixels are noise; the cost per call is that of the real architecture.

Canvases (W x H px) keep 512 known rows on top and add unknown rows below (as ``bench_outpaint.py``);
with 512 px tiles and 64 px overlap they take 1, 2 and 4 tiles:

    1 tile : 512 x 768    2 tiles: 512 x 1024    4 tiles: 960 x 1024

Each canvas runs once after a 1-tile warm-up (models loaded, allocator warm). Memory: exact peak of
torch's CPU allocations during the node (``bench/memory.py``), which includes the models' own
weights only if the node allocates them (it does not: they were loaded in the warm-up), and the peak
resident set size above the RSS before the run (a 2 ms sampling thread). The inputs are made before
the measurement; "-output" subtracts the returned canvas, which any implementation must allocate. Goals (issue 5): time linear in
the number of tiles; peak memory flat within +-10 % from 1 to 4 tiles. Prints a table and a JSON line.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time

import torch

CANVASES = {1: (768, 512), 2: (1024, 512), 4: (1024, 960)}  # tiles -> (H, W) px
KNOWN_ROWS = 512


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", default="sd15", choices=["sd15", "tiny"])
    parser.add_argument("--steps", type=int, default=2, help="RePaint steps per tile (1 model call each)")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    from support import tiny_models

    from runner import host as comfy_host

    nodes = comfy_host.boot(tempfile.mkdtemp(prefix="bench-"))

    from bench.memory import PeakRSS, TorchAllocations
    from repaint_extend.adapters.sampler import RePaintKSampler

    outpaint = nodes.NODE_CLASS_MAPPINGS["OutpaintTiled"]
    model = tiny_models.build_model("eps", args.size, seed=0)
    vae = tiny_models.build_vae(args.size, seed=2)
    control_net = tiny_models.build_controlnet(args.size, seed=3)
    context = 768 if args.size == "sd15" else 32
    positive = [[torch.randn(1, 77, context, generator=torch.Generator().manual_seed(0)), {}]]
    negative = [[torch.zeros(1, 77, context), {}]]
    sampler = RePaintKSampler(jump_length=1, jump_n_sample=1)

    def inputs(n):
        H, W = CANVASES[n]
        g = torch.Generator().manual_seed(n)
        canvas = torch.rand(1, H, W, 3, generator=g)
        mask = torch.zeros(1, H, W)
        mask[:, KNOWN_ROWS:] = 1
        hint = torch.rand(1, H, W, 3, generator=g)
        return canvas, mask, hint

    @torch.inference_mode()  # as ComfyUI's executor runs every node
    def run(canvas, mask, hint):
        out = outpaint.execute(
            model, vae, positive, negative, canvas, mask, 0, args.steps, 2.0, "normal",
            512, 512, 64, 32, sampler=sampler, control_net=control_net, control_image=hint,
        )  # fmt: skip
        image, tiles, nfe = out.args[:3]
        known = mask[0] == 0
        assert torch.equal(image[0][known], canvas[0][known]), "known pixels changed"
        return tiles, nfe

    t0 = time.perf_counter()
    run(*inputs(1))  # warm-up: first calls, allocator
    warmup = time.perf_counter() - t0
    rows = []
    for n in CANVASES:
        canvas, mask, hint = inputs(n)
        with PeakRSS() as rss, TorchAllocations() as mem:
            t0 = time.perf_counter()
            tiles, nfe = run(canvas, mask, hint)
            seconds = time.perf_counter() - t0
        assert tiles == n, (n, tiles)
        H, W = CANVASES[n]
        rows.append(
            dict(
                tiles=tiles,
                canvas_wh=[W, H],
                nfe=nfe,
                seconds=seconds,
                seconds_per_tile=seconds / tiles,
                torch_peak_mib=mem.peak_bytes / 2**20,
                torch_peak_minus_output_mib=(mem.peak_bytes - canvas.numel() * canvas.element_size()) / 2**20,
                rss_peak_above_start_mib=rss.peak_bytes / 2**20,
            )
        )
    base = rows[0]
    print(
        f"OutpaintTiled, random {args.size} UNet + VAE + ControlNet, tile 512, overlap 64, "
        f"{args.steps} RePaint steps (1 call each, cfg 2), {args.threads} thread(s); warm-up {warmup:.1f} s"
    )
    print(
        "tiles  canvas      NFE    s     s/tile  ratio | torch peak MiB  ratio | -output  ratio | RSS peak MiB  ratio"
    )
    for r in rows:
        r["time_per_tile_ratio"] = r["seconds_per_tile"] / base["seconds_per_tile"]
        r["torch_peak_ratio"] = r["torch_peak_mib"] / base["torch_peak_mib"]
        r["torch_minus_output_ratio"] = r["torch_peak_minus_output_mib"] / base["torch_peak_minus_output_mib"]
        r["rss_peak_ratio"] = r["rss_peak_above_start_mib"] / max(base["rss_peak_above_start_mib"], 1e-9)
        print(
            f"{r['tiles']:>5}  {r['canvas_wh'][0]:>4}x{r['canvas_wh'][1]:<5}  {r['nfe']:>3}  {r['seconds']:6.1f}  "
            f"{r['seconds_per_tile']:6.2f}  {r['time_per_tile_ratio']:.2f} | {r['torch_peak_mib']:10.1f}  "
            f"{r['torch_peak_ratio']:.2f} | {r['torch_peak_minus_output_mib']:7.1f}  {r['torch_minus_output_ratio']:.2f} | "
            f"{r['rss_peak_above_start_mib']:10.1f}  {r['rss_peak_ratio']:.2f}"
        )
    print(json.dumps({"bench": "outpaint_node", "size": args.size, "steps": args.steps, "rows": rows}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
