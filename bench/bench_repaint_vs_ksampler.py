"""Wall time of KSampler (RePaint) against ComfyUI's KSampler at equal NFE, on the same model.

    .venv/bin/python bench/bench_repaint_vs_ksampler.py [--size sd15|tiny] [--repeats 3]

Both run inside one process on a randomly initialised SD1.5-shaped UNet (``--size sd15``: SD1.5's real
channel layout) at a 64x64 latent (512x512 pixels), batch 1, cfg 1, with the same half noise_mask.
RePaint runs ``steps`` steps with (jump_length, jump_n_sample); KSampler runs ``ddpm`` (the same kind
of ancestral step) with as many steps as RePaint makes model calls. Runs alternate (R, K, R, K, ...)
so that the machine's drift hits both; the ratio is of the summed times. Goal: ratio <= 1.03.
Prints a JSON line with the figures.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time

import torch


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", default="sd15", choices=["sd15", "tiny"])
    parser.add_argument("--latent", type=int, default=64, help="latent side (pixels / 8)")
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--jump-length", type=int, default=2)
    parser.add_argument("--jump-n-sample", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)

    from support import tiny_models

    from runner import host as comfy_host

    nodes = comfy_host.boot(tempfile.mkdtemp(prefix="bench-"))

    from repaint_extend.samplers import schedule_nfe

    repaint_node = nodes.NODE_CLASS_MAPPINGS["KSamplerRePaint"]
    ksampler = nodes.KSampler()

    model = tiny_models.build_model("eps", args.size, seed=0)
    context = 768 if args.size == "sd15" else 32
    cond = [[torch.randn(1, 77, context, generator=torch.Generator().manual_seed(0)), {}]]
    side = args.latent
    mask = torch.zeros(1, side * 8, side * 8)
    mask[:, :, : side * 4] = 1.0
    latent = {
        "samples": torch.randn(1, 4, side, side, generator=torch.Generator().manual_seed(1)),
        "noise_mask": mask,
    }
    calls = schedule_nfe(args.steps, args.jump_length, args.jump_n_sample)

    def run_repaint():
        return repaint_node.execute(
            model,
            0,
            args.steps,
            1.0,
            "normal",
            cond,
            cond,
            latent,
            1.0,
            args.jump_length,
            args.jump_n_sample,
            1.0,
            "fresh",
        )

    def run_ksampler():
        return ksampler.sample(model, 0, calls, 1.0, "ddpm", "normal", cond, cond, latent, 1.0)

    run_ksampler()  # warm-up: model load, allocator
    times = {"repaint": [], "ksampler": []}
    for _ in range(args.repeats):
        for name, fn in (("repaint", run_repaint), ("ksampler", run_ksampler)):
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    ratio = sum(times["repaint"]) / sum(times["ksampler"])
    result = {
        "bench": "repaint_vs_ksampler",
        "model": f"random SD1.5-shaped UNet ({args.size})",
        "latent": [side, side],
        "steps": args.steps,
        "jump_length": args.jump_length,
        "jump_n_sample": args.jump_n_sample,
        "nfe": calls,
        "repaint_s": [round(t, 3) for t in times["repaint"]],
        "ksampler_s": [round(t, 3) for t in times["ksampler"]],
        "ratio": round(ratio, 4),
        "goal": "<= 1.03",
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
