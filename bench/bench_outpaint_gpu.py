"""GPU benchmark (prepared for the coordinator; not run by the sessions): Outpaint (Tiled) on SD1.5-shaped
random models, ms per window call against one bare UNet call.

    .venv/bin/python bench/bench_outpaint_gpu.py --device cuda --out bench/results/outpaint_gpu.json
    .venv/bin/python bench/bench_outpaint_gpu.py --quick --out /tmp/outpaint_gpu.json   # CPU smoke run

Models: ``tests/support/tiny_models.py`` at ``sd15`` size (UNet 860 M parameters, VAE with 128 base channels, an
SD1.5-shaped ControlNet), randomly initialised (no weights exist here: the pixels are noise, the cost is
the real architecture's), fp32 as built. Jobs (the canvas keeps the photo on top, the pad below is
generated; the pose hint is random):

- ``512->768``: a 512x512 photo extended to 512x768 (one 512-px window: joint = sequential);
- ``12MP``: a 3000x4000 photo (cropped to multiples of 8: 3000x4000) extended by 1,344 px to 3000x5344
  (21 windows of 512 px, 64-px overlap), in ``joint`` and ``coarse`` (auto's pick) modes.

Each run: RePaint with ``--steps`` steps, jump_n_sample 1 (one model call per step), cfg 2 (cond and
uncond in one batch of 2), ControlNet on every window. Reported per job: seconds, windows, window calls
(the node's ``nfe``), ms per window call, and the bare UNet call (the same UNet on a [2, 4, 64, 64]
latent, cond + uncond, median of 10 after 3 warm-ups) with the ratio. ``--quick``: tiny models, small
canvases (the same code path; minutes on a CPU). Writes JSON to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

FULL = {"tile": 512, "overlap": 64, "jobs": {"512->768": ((512, 512), 256), "12MP": ((4000, 3000), 1344)}}
QUICK = {"tile": 64, "overlap": 16, "jobs": {"512->768": ((64, 64), 32), "12MP": ((256, 192), 96)}}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--quick", action="store_true", help="tiny models and canvases (CPU smoke run)")
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: no CUDA device visible")
    setting = QUICK if args.quick else FULL
    size = "tiny" if args.quick else "sd15"

    from runner import host as comfy_host

    nodes = comfy_host.boot(tempfile.mkdtemp(prefix="bench-gpu-"), cpu=args.device == "cpu")
    import comfy.model_management as mm
    from support import tiny_models

    device = mm.get_torch_device()
    outpaint = nodes.NODE_CLASS_MAPPINGS["OutpaintTiled"]
    sampler = nodes.NODE_CLASS_MAPPINGS["RePaintSampler"].execute(1, 1, 1.0, "fresh").result[0]
    model = tiny_models.build_model("eps", size, seed=0)
    vae = tiny_models.build_vae(size, seed=2)
    net = tiny_models.build_controlnet(size, seed=3)
    context = 768 if size == "sd15" else 32
    positive = [[torch.randn(1, 77, context, generator=torch.Generator().manual_seed(0)), {}]]
    negative = [[torch.zeros(1, 77, context), {}]]

    # one bare UNet call at the window's latent size, cond + uncond
    mm.load_models_gpu([model])
    unet = model.model.diffusion_model
    lat = setting["tile"] // 8
    x = torch.randn(2, 4, lat, lat, device=device)
    t = torch.full((2,), 500.0, device=device)
    ctx = torch.cat([positive[0][0], negative[0][0]]).to(device)
    times = []
    with torch.inference_mode():
        for i in range(13):
            if device.type == "cuda":
                torch.cuda.synchronize()
            t0 = time.perf_counter()
            unet(x.to(model.model.get_dtype()), t, context=ctx.to(model.model.get_dtype()))
            if device.type == "cuda":
                torch.cuda.synchronize()
            if i >= 3:
                times.append(time.perf_counter() - t0)
    bare_ms = statistics.median(times) * 1000
    print(f"bare UNet call [2, 4, {lat}, {lat}]: {bare_ms:.1f} ms on {device}")

    rows = []
    for job, ((h, w), pad) in setting["jobs"].items():
        g = torch.Generator().manual_seed(0)
        canvas = torch.rand(1, h + pad, w, 3, generator=g)
        mask = torch.zeros(1, h + pad, w)
        mask[:, h:] = 1
        hint = torch.rand(1, h + pad, w, 3, generator=g)
        modes = ("joint", "coarse") if job == "12MP" else ("joint", "sequential")
        models = (model, vae, positive, negative, sampler, net)
        if not rows:  # first run: CUDA kernels, allocator and cuDNN plans; not reported
            _timed_run(outpaint, setting, args, device, models, canvas, mask, hint, "joint")
        for mode in modes:
            row = dict(job=job, mode=mode, canvas_wh=[w, h + pad], bare_unet_ms=round(bare_ms, 1))
            row.update(_timed_run(outpaint, setting, args, device, models, canvas, mask, hint, mode))
            row["ratio_to_bare"] = round(row["ms_per_window_call"] / bare_ms, 2)
            rows.append(row)
            print(json.dumps(row), flush=True)
    result = {
        "device": str(device),
        "gpu": torch.cuda.get_device_name() if device.type == "cuda" else None,
        "size": size,
        "steps": args.steps,
        "peak_gpu_mib": round(torch.cuda.max_memory_allocated() / 2**20) if device.type == "cuda" else None,
        "rows": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.out}")
    return 0


def _timed_run(outpaint, setting, args, device, models, canvas, mask, hint, mode) -> dict:
    """One Outpaint (Tiled) run: windows, window calls, seconds, ms per window call, known pixels exact."""
    model, vae, positive, negative, sampler, net = models
    if device.type == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    with torch.inference_mode():
        image, windows, nfe, _ = outpaint.execute(
            model, vae, positive, negative, canvas, mask, 0, args.steps, 2.0, "normal",
            setting["tile"], setting["tile"], setting["overlap"], setting["overlap"] // 2,
            sampler=sampler, control_net=net, control_image=hint, mode=mode,
        ).result  # fmt: skip
    if device.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - t0
    known = mask[0] == 0
    return dict(
        windows=int(windows), window_calls=int(nfe), seconds=round(seconds, 2),
        ms_per_window_call=round(1000 * seconds / nfe, 1),
        known_exact=bool(torch.equal(image[0][known], canvas[0][known])),
    )  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
